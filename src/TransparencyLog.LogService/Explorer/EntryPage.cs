using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.RekorV2;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// One entry: what it says, who signed it (the certificate as people read it), when it was integrated, and the
/// server's verdict on its inclusion in the current signed checkpoint. Downloads: the entry in its API's JSON and,
/// for hashedrekord entries, a Sigstore bundle.
/// </summary>
internal static class EntryPage
{
    public static async Task<IResult> RenderAsync(
        string log, string index, LogRegistry registry, LogHeads heads, ExplorerStore store, ProofService proofs, CancellationToken cancellationToken)
    {
        var (instance, entry, failure) = await FindAsync(log, index, registry, store, cancellationToken);
        if (failure is not null)
        {
            return failure;
        }

        var head = await heads.GetAsync(instance!.Id, fresh: true, cancellationToken);
        var verdict = await InclusionVerdict.CheckAsync(instance, entry!, head, proofs, cancellationToken);
        var decoded = DecodedEntry.Decode(entry!.Body, entry.Kind, entry.ApiVersion);

        var html = Layout.Begin($"Entry {Layout.ShownIndex(instance, entry.Index)} of the {Layout.LogTitle(instance)}", registry, "");
        WriteSummary(html, instance, entry, verdict);
        WriteVerdict(html, instance, entry, verdict);
        WriteContent(html, decoded);
        if (decoded.Leaf is not null)
        {
            WriteCertificates(html, decoded.Certificates, entry.IntegratedTime);
        }
        else if (decoded.PublicKeyPem is { } key)
        {
            html.Open("section", ("aria-labelledby", "key-heading")).Element("h2", "Signing key", ("id", "key-heading"))
                .Element("pre", key, ("class", "wrap")).Close("section");
        }

        WriteDownloads(html, instance, entry, decoded);
        html.Open("details").Element("summary", "Canonical body as stored").Element("pre", decoded.PrettyBody, ("class", "wrap")).Close("details");
        return ExplorerEndpoints.Page(Layout.End(html));
    }

    /// <summary>The entry as its own API returns it: a Rekor v1 LogEntry, or a Rekor v2 TransparencyLogEntry.</summary>
    public static async Task<IResult> EntryJsonAsync(
        string log, string index, LogRegistry registry, LogHeads heads, ExplorerStore store, ProofService proofs, HttpContext context)
    {
        var (instance, entry, failure) = await FindAsync(log, index, registry, store, context.RequestAborted);
        if (failure is not null)
        {
            return failure;
        }

        var head = await heads.GetAsync(instance!.Id, fresh: true, context.RequestAborted);
        var verdict = await InclusionVerdict.CheckAsync(instance, entry!, head, proofs, context.RequestAborted);
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{Layout.Slug(instance)}-{Layout.ShownIndex(instance, entry!.Index)}.json\"";
        var json = instance.Kind == LogKind.RekorV1
            ? RekorEntryWriter.Map(instance, new VerifiedEntry(entry.Index, entry.Body, entry.IntegratedTime, entry.EntrySignature, entry.LeafHash, head, verdict.Proof))
            : TransparencyLogEntryWriter.Write(instance, entry.Index, entry.Kind, entry.ApiVersion, entry.Body, head, verdict.Proof);
        return new JsonBytes(json);
    }

    /// <summary>A Sigstore bundle (v0.3) for a hashedrekord entry: certificate or key hint, signature, digest, this entry.</summary>
    public static async Task<IResult> BundleJsonAsync(
        string log, string index, LogRegistry registry, LogHeads heads, ExplorerStore store, ProofService proofs, HttpContext context)
    {
        var (instance, entry, failure) = await FindAsync(log, index, registry, store, context.RequestAborted);
        if (failure is not null)
        {
            return failure;
        }

        var decoded = DecodedEntry.Decode(entry!.Body, entry.Kind, entry.ApiVersion);
        if (decoded.Message is not { } message)
        {
            return ExplorerEndpoints.Problem(registry, StatusCodes.Status404NotFound, "No bundle for this entry",
                "Only hashedrekord entries can be turned into a bundle: for DSSE and in-toto entries the log keeps hashes of the envelope, not the envelope a bundle must carry.");
        }

        var head = await heads.GetAsync(instance!.Id, fresh: true, context.RequestAborted);
        var verdict = await InclusionVerdict.CheckAsync(instance, entry, head, proofs, context.RequestAborted);
        var logId = instance.Kind == LogKind.RekorV1 ? instance.Signer.LogId : instance.CheckpointKeyHash;
        var tlogEntry = new TransparencyLogEntry(
            entry.Index,
            logId,
            new KindVersion(entry.Kind, entry.ApiVersion),
            instance.Kind == LogKind.RekorV1 ? entry.IntegratedTime : 0,
            instance.Kind == LogKind.RekorV1 ? entry.EntrySignature : null,
            new InclusionProof(entry.Index, head.Root.ToArray(), head.Size, [.. verdict.Proof.Select(static h => h.ToArray())], head.Checkpoint),
            entry.Body);
        var material = new VerificationMaterial(decoded.Leaf?.RawData, null, decoded.Leaf is null ? "" : null, [tlogEntry], []);
        var bundle = new Bundle(Bundle.MediaTypeV03, material, new MessageSignature(new MessageDigest(message.Algorithm, message.Digest), message.Signature), null);
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{Layout.Slug(instance)}-{Layout.ShownIndex(instance, entry.Index)}.sigstore.json\"";
        return TypedResults.Text(bundle.ToJson(), "application/json; charset=utf-8");
    }

    private static async Task<(LogInstance? Log, ExplorerEntry? Entry, IResult? Failure)> FindAsync(
        string slug, string indexText, LogRegistry registry, ExplorerStore store, CancellationToken cancellationToken)
    {
        if (ExplorerEndpoints.FindLog(registry, slug) is not { } log)
        {
            return (null, null, ExplorerEndpoints.Problem(registry, StatusCodes.Status404NotFound, "No such log", "This service has no log by that name; see the navigation for the logs it serves."));
        }

        if (indexText.Length > 19 || !long.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return (null, null, ExplorerEndpoints.Problem(registry, StatusCodes.Status400BadRequest, "Not an entry index", "An entry index is a non-negative integer."));
        }

        // Rekor v1 indices are global across shards: the shard holding it answers, with its index in that shard.
        var (holder, local) = log.Kind == LogKind.RekorV1
            ? registry.ShardOf(index) is { } shard ? (shard.Log, shard.LocalIndex) : (null, -1)
            : (log, index);
        var entry = holder is null ? null : await store.GetAsync(holder.Id, local, cancellationToken);
        return entry is null
            ? (null, null, ExplorerEndpoints.Problem(registry, StatusCodes.Status404NotFound, "No such entry", $"The {Layout.LogTitle(log)} has no entry at index {index}."))
            : (holder, entry, null);
    }

    private static void WriteSummary(Html html, LogInstance log, ExplorerEntry entry, InclusionVerdict verdict)
    {
        html.Open("dl", ("class", "facts"))
            .Row("Log", $"{Layout.LogTitle(log)} ({log.Name})")
            .Row("Log index", Layout.ShownIndex(log, entry.Index).ToString(CultureInfo.InvariantCulture))
            .Row("Entry UUID", entry.LeafHash.ToString(), "mono");
        if (log.Kind == LogKind.RekorV1)
        {
            html.Row("Entry ID", RekorEntryWriter.EntryId(log, entry.LeafHash), "mono");
            if (log.FrozenAt is not null || log.ShardStart > 0)
            {
                html.Row("Shard", $"tree {log.TreeId.ToString(CultureInfo.InvariantCulture)}, index {entry.Index.ToString(CultureInfo.InvariantCulture)} in it");
            }
        }

        html.Row("Kind", $"{entry.Kind} {entry.ApiVersion}")
            .Row("Integrated time", Layout.UnixTime(entry.IntegratedTime))
            .Row("Inclusion", verdict.Verified ? "verified" : "FAILED", verdict.Verified ? "ok" : "bad")
            .Close("dl");
    }

    private static void WriteVerdict(Html html, LogInstance log, ExplorerEntry entry, InclusionVerdict verdict)
    {
        html.Open("section", ("aria-labelledby", "proof-heading")).Element("h2", "Inclusion proof", ("id", "proof-heading"));
        html.Open("div", ("class", verdict.Verified ? "verdict ok" : "verdict bad"), ("role", "status"), ("id", "verdict"));
        if (verdict.Verified)
        {
            html.Element("strong", "Verified").Text($": the entry as stored is included in the log's current signed checkpoint (tree size {verdict.Head.Size}).");
        }
        else
        {
            html.Element("strong", "Failed").Text(": this entry could not be shown to be in the log's current signed checkpoint.");
            html.Open("ul");
            foreach (var problem in verdict.Problems)
            {
                html.Element("li", problem);
            }

            html.Close("ul");
        }

        html.Close("div");
        html.Open("dl", ("class", "facts"))
            .Row("Leaf hash (recomputed from the body)", verdict.ComputedLeafHash.ToString(), "mono")
            .Row("Tree size", verdict.Head.Size.ToString(CultureInfo.InvariantCulture))
            .Row("Root hash", verdict.Head.Root.ToString(), "mono")
            .Row("Checkpoint signed", Layout.Time(verdict.Head.SignedAt))
            .Close("dl");
        html.Open("details").Element("summary", $"Proof hashes ({verdict.Proof.Count}) and the signed checkpoint").Open("ol", ("class", "mono"));
        foreach (var hash in verdict.Proof)
        {
            html.Element("li", hash.ToString());
        }

        html.Close("ol").Element("pre", verdict.Head.Checkpoint, ("class", "wrap")).Close("details");

        if (log.Kind == LogKind.RekorV1)
        {
            html.Element("h3", "Signed entry timestamp (SET)");
            if (entry.EntrySignature is { } set)
            {
                var ok = InclusionVerdict.SetVerifies(log, entry);
                html.Open("p", ("class", ok ? "verdict ok" : "verdict bad"), ("id", "set-verdict"))
                    .Element("strong", ok ? "Verified" : "Failed")
                    .Text(ok ? ": the log's key signed this body, time and index." : ": the log's signature does not match the stored body, time and index.")
                    .Close("p")
                    .Element("pre", Convert.ToBase64String(set), ("class", "wrap"));
            }
            else
            {
                html.Element("p", "No SET was stored with this entry.");
            }
        }

        html.Close("section");
    }

    private static void WriteContent(Html html, DecodedEntry decoded)
    {
        html.Open("section", ("aria-labelledby", "content-heading")).Element("h2", "Content", ("id", "content-heading"));
        if (decoded.Problem is { } problem)
        {
            html.Element("p", problem, ("class", "notice error"));
        }

        html.Open("dl", ("class", "facts"));
        foreach (var (label, value) in decoded.Fields)
        {
            html.Row(label, value, "mono");
        }

        html.Close("dl").Close("section");
    }

    private static void WriteCertificates(Html html, IReadOnlyList<X509Certificate2> certificates, long integratedTime)
    {
        var leaf = CertificateDescription.Describe(certificates[0]);
        html.Open("section", ("aria-labelledby", "cert-heading")).Element("h2", "Signing certificate", ("id", "cert-heading"));
        html.Open("dl", ("class", "facts"));
        foreach (var (type, value) in leaf.SubjectAlternativeNames)
        {
            html.Row($"Subject alternative name ({type})", value, "identity san");
        }

        html.Row("OIDC issuer", leaf.OidcIssuer, "identity issuer");
        var integrated = integratedTime > 0 ? DateTimeOffset.FromUnixTimeSeconds(integratedTime) : (DateTimeOffset?)null;
        var validAtIntegration = integrated is { } t && t >= leaf.NotBefore && t <= leaf.NotAfter;
        html.Row("Valid from", Layout.Time(leaf.NotBefore))
            .Row("Valid until", Layout.Time(leaf.NotAfter));
        if (integrated is not null)
        {
            html.Row("Valid when integrated", validAtIntegration ? "yes" : "no: the entry was integrated outside the certificate's validity", validAtIntegration ? "ok" : "bad");
        }

        html.Row("Subject", leaf.Subject.Length == 0 ? "(empty, as Fulcio issues)" : leaf.Subject)
            .Row("Issued by", leaf.Issuer)
            .Row("Serial number", leaf.SerialNumber, "mono")
            .Row("Key", leaf.KeyAlgorithm)
            .Row("SHA-256 fingerprint", leaf.Sha256Fingerprint, "mono")
            .Close("dl");

        if (leaf.FulcioExtensions.Count > 0)
        {
            html.Element("h3", "Fulcio extensions");
            html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Fulcio extensions"), ("tabindex", "0"))
                .Open("table").Open("thead").Open("tr")
                .Element("th", "Name", ("scope", "col")).Element("th", "Value", ("scope", "col")).Element("th", "OID", ("scope", "col"))
                .Close("tr").Close("thead").Open("tbody");
            foreach (var (name, oid, value) in leaf.FulcioExtensions)
            {
                html.Open("tr").Element("th", name, ("scope", "row")).Element("td", value, ("class", "identity")).Element("td", oid, ("class", "mono")).Close("tr");
            }

            html.Close("tbody").Close("table").Close("div");
        }

        html.Element("h3", "Chain");
        if (certificates.Count == 1)
        {
            html.Element("p", $"The entry holds only the leaf certificate; it was issued by {leaf.Issuer}.");
        }
        else
        {
            html.Open("ol", ("class", "chain"));
            foreach (var certificate in certificates.Skip(1))
            {
                var described = CertificateDescription.Describe(certificate);
                html.Open("li").Text($"{described.Subject} — issued by {described.Issuer}, valid {Layout.Time(described.NotBefore)} to {Layout.Time(described.NotAfter)}").Close("li");
            }

            html.Close("ol");
        }

        html.Close("section");
    }

    private static void WriteDownloads(Html html, LogInstance log, ExplorerEntry entry, DecodedEntry decoded)
    {
        var href = Layout.EntryHref(log, entry.Index);
        html.Open("section", ("aria-labelledby", "downloads-heading")).Element("h2", "Downloads", ("id", "downloads-heading")).Open("ul");
        html.Open("li").Link($"{href}/entry.json", log.Kind == LogKind.RekorV1 ? "Entry (Rekor v1 LogEntry JSON)" : "Entry (TransparencyLogEntry JSON)").Close("li");
        if (decoded.Message is not null)
        {
            html.Open("li").Link($"{href}/bundle.json", "Sigstore bundle (v0.3) without the artifact").Close("li");
        }

        html.Close("ul").Close("section");
    }
}
