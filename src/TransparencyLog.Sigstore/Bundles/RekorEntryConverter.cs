using System.Text.Json;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Bundles;

/// <summary>
/// Maps a Rekor v1 <c>LogEntry</c> response (the <c>{uuid: entry}</c> map of a 201 or GET, hex hashes, numbers) into a
/// bundle tlog entry the way sigstore-js does (<c>S:witness/tlog/index.js:55-98</c>).
/// </summary>
public static class RekorEntryConverter
{
    /// <summary>Converts the single entry in a Rekor v1 response body; returns its UUID (the map key) too.</summary>
    /// <exception cref="BundleFormatException">The response is not a one-entry map of a complete LogEntry.</exception>
    public static (string Uuid, TransparencyLogEntry Entry) FromResponse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonInput.Parse(json, ProtoJson.DocumentOptions);
        }
        catch (JsonException)
        {
            throw new BundleFormatException("the log response is not valid JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new BundleFormatException("the log response must be a JSON object keyed by entry UUID");
            }

            var entries = root.EnumerateObject().ToList();
            if (entries.Count != 1)
            {
                throw new BundleFormatException($"the log response holds {entries.Count} entries; expected exactly one");
            }

            return (entries[0].Name, FromLogEntry(entries[0].Value));
        }
    }

    /// <summary>
    /// Parses a Rekor v2 <c>POST /api/v2/log/entries</c> response: already a protobuf-JSON <c>TransparencyLogEntry</c>,
    /// exactly what a bundle's <c>tlogEntries[]</c> holds.
    /// </summary>
    /// <exception cref="BundleFormatException">Not a complete TransparencyLogEntry.</exception>
    public static TransparencyLogEntry FromTransparencyLogEntry(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonInput.Parse(json, ProtoJson.DocumentOptions);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? Bundle.ParseTlogEntry(document.RootElement, "entry")
                : throw new BundleFormatException("the log response must be a JSON object");
        }
        catch (JsonException)
        {
            throw new BundleFormatException("the log response is not valid JSON");
        }
    }

    /// <summary>Converts one Rekor v1 <c>LogEntry</c> object.</summary>
    public static TransparencyLogEntry FromLogEntry(JsonElement entry)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new BundleFormatException("a log entry must be a JSON object");
        }

        var body = ProtoJson.Bytes(entry, "body", "body");
        var logIdHex = ProtoJson.String(entry, "logID", "logID");
        var logId = Hex(logIdHex, "logID");
        var logIndex = ProtoJson.Int64(entry, "logIndex", "logIndex");
        var integratedTime = ProtoJson.Int64(entry, "integratedTime", "integratedTime");

        // kind and apiVersion are not separate fields in v1: sigstore-js reads them out of the body.
        string kind;
        string apiVersion;
        try
        {
            using var bodyDocument = JsonInput.Parse(body, ProtoJson.DocumentOptions);
            kind = ProtoJson.String(bodyDocument.RootElement, "kind", "body.kind");
            apiVersion = ProtoJson.String(bodyDocument.RootElement, "apiVersion", "body.apiVersion");
        }
        catch (JsonException)
        {
            throw new BundleFormatException("the entry body is not valid JSON");
        }
        catch (InvalidOperationException)
        {
            throw new BundleFormatException("the entry body must be a JSON object");
        }

        byte[]? set = null;
        InclusionProof? proof = null;
        if (ProtoJson.OptionalObject(entry, "verification", "verification") is { } verification)
        {
            set = ProtoJson.OptionalBytes(verification, "signedEntryTimestamp", "verification.signedEntryTimestamp");
            if (ProtoJson.OptionalObject(verification, "inclusionProof", "verification.inclusionProof") is { } p)
            {
                proof = new InclusionProof(
                    ProtoJson.Int64(p, "logIndex", "verification.inclusionProof.logIndex"),
                    Hex(ProtoJson.String(p, "rootHash", "verification.inclusionProof.rootHash"), "verification.inclusionProof.rootHash"),
                    ProtoJson.Int64(p, "treeSize", "verification.inclusionProof.treeSize"),
                    [.. ProtoJson.Array(p, "hashes", "verification.inclusionProof.hashes")
                        .Select(static h => Hex(h.GetString() ?? string.Empty, "verification.inclusionProof.hashes[]"))],
                    ProtoJson.String(p, "checkpoint", "verification.inclusionProof.checkpoint"));
            }
        }

        return new TransparencyLogEntry(logIndex, logId, new KindVersion(kind, apiVersion), integratedTime, set, proof, body);
    }

    private static byte[] Hex(string hex, string path)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new BundleFormatException($"invalid hex in {path}");
        }
    }
}
