using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Offline bundle verification in the order of @sigstore/verify (interop §6): timestamps, signing certificate and
/// SCTs, transparency log entries (SET, checkpoint and inclusion proof, body), artifact signature, identity policy.
/// Every failure is a <see cref="VerificationException"/> with a stable code.
/// </summary>
public sealed class BundleVerifier
{
    private const string InTotoPayloadType = "application/vnd.in-toto+json";

    private readonly TrustedRoot _root;
    private readonly VerificationOptions _options;

    public BundleVerifier(TrustedRoot root, VerificationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        _options = options ?? new VerificationOptions();
    }

    /// <summary>
    /// Keyless: the bundle's Fulcio certificate must chain to a trusted CA and name the identity the policy expects.
    /// <paramref name="artifact"/> is required for message signatures; for DSSE it is optional and, when given, must
    /// be one of the in-toto statement's subjects.
    /// </summary>
    public VerificationResult Verify(Bundle bundle, byte[]? artifact, CertificateIdentityPolicy identity)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(identity);
        var leafDer = bundle.VerificationMaterial.LeafCertificate
            ?? throw new VerificationException(VerificationErrorCode.TrustMaterial, "the bundle is signed with a key, not a certificate; verify it with the public key");
        X509Certificate2 leaf;
        try
        {
            leaf = X509CertificateLoader.LoadCertificate(leafDer);
        }
        catch (CryptographicException ex)
        {
            throw new VerificationException(VerificationErrorCode.Certificate, "the bundle's signing certificate is not a valid X.509 certificate", ex);
        }

        using (leaf)
        {
            return VerifyCore(bundle, artifact, leaf.PublicKey.ExportSubjectPublicKeyInfo(), leaf, identity);
        }
    }

    /// <summary>Key-based: the signature must verify with <paramref name="publicKeySpki"/> (DER SubjectPublicKeyInfo).</summary>
    public VerificationResult VerifyWithKey(Bundle bundle, byte[]? artifact, byte[] publicKeySpki)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(publicKeySpki);
        return VerifyCore(bundle, artifact, publicKeySpki, null, null);
    }

    /// <summary>
    /// Verifies a checkpoint (for instance one carrying witness cosignatures, fetched beside <paramref name="entry"/>)
    /// against the trusted key of the log that holds <paramref name="entry"/>, as the entry's own checkpoint is checked.
    /// </summary>
    /// <exception cref="VerificationException">No trusted log has the entry's log ID, or the note is not validly signed by it.</exception>
    public Checkpoint VerifyLogCheckpoint(TransparencyLogEntry entry, string note)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(note);
        var logs = _root.FindTlogs(entry.LogId).ToList();
        return logs.Count > 0
            ? VerifyCheckpoint(note, logs)
            : throw ProofError($"no trusted transparency log has log ID {Convert.ToHexStringLower(entry.LogId)}");
    }

    private VerificationResult VerifyCore(Bundle bundle, byte[]? artifact, byte[] spki, X509Certificate2? leaf, CertificateIdentityPolicy? identity)
    {
        var entries = bundle.VerificationMaterial.TlogEntries;
        if (entries.Count < _options.TlogThreshold)
        {
            throw new VerificationException(
                VerificationErrorCode.Tlog,
                $"the bundle has {entries.Count} transparency log entr{(entries.Count == 1 ? "y" : "ies")}; at least {_options.TlogThreshold} required");
        }

        var signatureBytes = bundle.MessageSignature?.Signature
            ?? bundle.DsseEnvelope?.Signatures[0].Sig
            ?? throw new VerificationException(VerificationErrorCode.Bundle, "the bundle holds no signature");

        var timestamps = VerifyTimestamps(bundle, signatureBytes);

        string? subject = null;
        string? issuer = null;
        if (leaf is not null)
        {
            VerifyCertificate(leaf, timestamps);
            subject = SigningCertificate.Subject(leaf);
            issuer = SigningCertificate.Issuer(leaf);
        }

        foreach (var entry in entries)
        {
            VerifyTlogEntry(entry, bundle, spki, leaf);
        }

        VerifySignature(bundle, artifact, spki, leaf is null ? _options.KeySignatureHash : null);
        identity?.Check(subject, issuer);

        return new VerificationResult(subject, issuer, timestamps, [.. entries.Select(static e => e.LogIndex)], bundle.DsseEnvelope?.PayloadType);
    }

    private List<VerifiedTimestamp> VerifyTimestamps(Bundle bundle, byte[] signatureBytes)
    {
        var timestamps = new List<VerifiedTimestamp>();
        foreach (var entry in bundle.VerificationMaterial.TlogEntries)
        {
            if (entry.InclusionPromise is null || entry.IntegratedTime == 0)
            {
                continue;
            }

            var time = IntegratedTime(entry);
            VerifyInclusionPromise(entry, [.. _root.FindTlogs(entry.LogId, time)], time);
            timestamps.Add(new VerifiedTimestamp(TimestampSource.TransparencyLog, time));
        }

        foreach (var token in bundle.VerificationMaterial.Rfc3161Timestamps)
        {
            timestamps.Add(new VerifiedTimestamp(TimestampSource.TimestampAuthority, Rfc3161Timestamp.Verify(token, signatureBytes, _root)));
        }

        if (timestamps.Count < _options.TimestampThreshold)
        {
            throw new VerificationException(
                VerificationErrorCode.Timestamp,
                $"found {timestamps.Count} verified timestamp(s); at least {_options.TimestampThreshold} required (a signed entry timestamp from the log or an RFC 3161 timestamp)");
        }

        return timestamps;
    }

    /// <summary>
    /// The entry's integratedTime as a time. It is the bundle's claim, read before the log's signature over it is
    /// checked: a value no date can hold (years beyond 9999) is refused here rather than thrown as an
    /// ArgumentOutOfRangeException by <see cref="DateTimeOffset.FromUnixTimeSeconds"/>.
    /// </summary>
    private static DateTimeOffset IntegratedTime(TransparencyLogEntry entry) =>
        entry.IntegratedTime >= DateTimeOffset.MinValue.ToUnixTimeSeconds() && entry.IntegratedTime <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds(entry.IntegratedTime)
            : throw new VerificationException(VerificationErrorCode.Tlog, $"log entry {entry.LogIndex} has an integratedTime of {entry.IntegratedTime} seconds, outside the range of dates");

    private static void VerifyInclusionPromise(TransparencyLogEntry entry, List<TransparencyLogInstance> logs, DateTimeOffset? time)
    {
        if (logs.Count == 0)
        {
            throw new VerificationException(
                VerificationErrorCode.TlogInclusionPromise,
                $"no trusted transparency log has log ID {Convert.ToHexStringLower(entry.LogId)}{(time is { } t ? $" with a key valid at {t:O}" : string.Empty)}");
        }

        var body = Convert.ToBase64String(entry.CanonicalizedBody);
        foreach (var log in logs)
        {
            if (TryLoadLogKey(log) is { } key
                && entry.InclusionPromise is { } set
                && SignedEntryTimestamp.Verify(key, set, body, entry.IntegratedTime, entry.LogIndex))
            {
                return;
            }
        }

        throw new VerificationException(
            VerificationErrorCode.TlogInclusionPromise,
            $"the signed entry timestamp of log entry {entry.LogIndex} does not verify with the key of {logs[0].BaseUrl}");
    }

    private void VerifyCertificate(X509Certificate2 leaf, List<VerifiedTimestamp> timestamps)
    {
        X509Certificate2? issuerCertificate = null;
        try
        {
            foreach (var timestamp in timestamps)
            {
                var authorities = _root.CertificateAuthoritiesAt(timestamp.Time).ToList();
                if (authorities.Count == 0)
                {
                    throw new VerificationException(
                        VerificationErrorCode.Certificate,
                        $"no trusted certificate authority is valid at {timestamp.Time:O}");
                }

                var errors = new List<string>();
                var valid = false;
                foreach (var authority in authorities)
                {
                    if (CertificateChains.TryValidate(leaf, authority.CertChain, timestamp.Time, CertificateChains.CodeSigningEku, out var issuer, out var error))
                    {
                        if (issuerCertificate is null)
                        {
                            issuerCertificate = issuer;
                        }
                        else
                        {
                            issuer?.Dispose();
                        }

                        valid = true;
                        break;
                    }

                    errors.Add(error);
                }

                if (!valid)
                {
                    throw new VerificationException(
                        VerificationErrorCode.Certificate,
                        $"the signing certificate is not valid at {timestamp.Time:O} ({Describe(timestamp.Source)}) under any trusted certificate authority: {string.Join("; ", errors.Distinct())}");
                }
            }

            VerifyScts(leaf, issuerCertificate);
        }
        finally
        {
            issuerCertificate?.Dispose();
        }
    }

    private void VerifyScts(X509Certificate2 leaf, X509Certificate2? issuer)
    {
        var scts = ReadEmbeddedScts(leaf);
        var verified = 0;
        foreach (var sct in scts)
        {
            var time = SctTime(sct);
            var logs = _root.FindCtlogs(sct.LogId, time).ToList();
            if (logs.Count == 0)
            {
                throw new VerificationException(
                    VerificationErrorCode.Sct,
                    $"the certificate's SCT from log {Convert.ToHexStringLower(sct.LogId)} at {time:O} matches no trusted CT log key valid at that time");
            }

            if (issuer is null)
            {
                throw new VerificationException(VerificationErrorCode.Sct, "the certificate's issuer is unknown, so its SCTs cannot be checked");
            }

            // An embedded SCT was issued for the precertificate: the leaf's TBS without the SCT list, under the issuer's key.
            var signedData = CtSignedData.ForPrecertificate(
                sct.TimestampMs,
                SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo()),
                PrecertificateTbs(leaf),
                sct.Extensions);
            if (!logs.Any(l => SctSignatures.Verify(sct, signedData, l.PublicKey.RawBytes)))
            {
                throw new VerificationException(
                    VerificationErrorCode.Sct,
                    $"the certificate's SCT from CT log {logs[0].BaseUrl} does not verify");
            }

            verified++;
        }

        if (verified < _options.CtlogThreshold)
        {
            throw new VerificationException(
                VerificationErrorCode.Sct,
                $"the signing certificate has {verified} verified SCT(s); at least {_options.CtlogThreshold} required");
        }
    }

    private static IReadOnlyList<SignedCertificateTimestamp> ReadEmbeddedScts(X509Certificate2 leaf)
    {
        if (leaf.Extensions[SctList.Oid] is not { } extension)
        {
            return [];
        }

        try
        {
            return SctList.DecodeExtensionValue(extension.RawData);
        }
        catch (FormatException ex)
        {
            throw new VerificationException(VerificationErrorCode.Sct, $"the certificate's embedded SCT list is malformed: {ex.Message}", ex);
        }
    }

    private static byte[] PrecertificateTbs(X509Certificate2 leaf)
    {
        try
        {
            return Precertificate.TbsWithoutSctList(leaf.RawData);
        }
        catch (FormatException ex)
        {
            throw new VerificationException(VerificationErrorCode.Sct, $"the precertificate cannot be rebuilt from the signing certificate: {ex.Message}", ex);
        }
    }

    private static DateTimeOffset SctTime(SignedCertificateTimestamp sct) =>
        sct.TimestampMs <= (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)sct.TimestampMs)
            : throw new VerificationException(VerificationErrorCode.Sct, "an embedded SCT's timestamp is out of range");

    private void VerifyTlogEntry(TransparencyLogEntry entry, Bundle bundle, byte[] spki, X509Certificate2? leaf)
    {
        if (entry.InclusionPromise is null && entry.InclusionProof is null)
        {
            throw new VerificationException(
                VerificationErrorCode.TlogMissingInclusion,
                $"log entry {entry.LogIndex} has neither a signed entry timestamp nor an inclusion proof");
        }

        var logs = entry.IntegratedTime != 0
            ? _root.FindTlogs(entry.LogId, IntegratedTime(entry)).ToList()
            : _root.FindTlogs(entry.LogId).ToList();

        // A SET with a time was checked with the timestamps; one without a time proves inclusion only.
        if (entry.InclusionPromise is not null && entry.IntegratedTime == 0)
        {
            VerifyInclusionPromise(entry, logs, null);
        }

        if (entry.InclusionProof is { } proof)
        {
            VerifyInclusionProof(entry, proof, logs);
        }

        TlogBody.Verify(entry, bundle, spki, leaf);
    }

    private static void VerifyInclusionProof(TransparencyLogEntry entry, InclusionProof proof, List<TransparencyLogInstance> logs)
    {
        if (logs.Count == 0)
        {
            throw ProofError($"no trusted transparency log has log ID {Convert.ToHexStringLower(entry.LogId)} with a key valid at the entry's time");
        }

        var checkpoint = VerifyCheckpoint(proof.Checkpoint, logs);
        if (checkpoint.Size != proof.TreeSize || !checkpoint.RootHash.AsSpan().SequenceEqual(proof.RootHash))
        {
            throw ProofError(
                $"the inclusion proof is for tree size {proof.TreeSize} with root {Convert.ToHexStringLower(proof.RootHash)}, but the checkpoint says size {checkpoint.Size} with root {Convert.ToHexStringLower(checkpoint.RootHash)}");
        }

        var hashes = new List<Hash>(proof.Hashes.Count);
        foreach (var hash in proof.Hashes)
        {
            if (hash.Length != Hash.Size)
            {
                throw ProofError("an inclusion proof hash is not 32 bytes");
            }

            hashes.Add(Hash.FromBytes(hash));
        }

        var leafHash = Rfc6962.HashLeaf(entry.CanonicalizedBody);
        if (!ProofVerifier.VerifyInclusion(proof.LogIndex, checkpoint.Size, leafHash, hashes, Hash.FromBytes(checkpoint.RootHash)))
        {
            throw ProofError(
                $"the inclusion proof does not lead from log entry {proof.LogIndex} to the checkpoint's root at tree size {checkpoint.Size}");
        }
    }

    /// <summary>
    /// The checkpoint must carry a valid signature from a trusted log key (selected by its key hint) under a name
    /// the log's base URL contains: sigstore-js matches the name against <c>baseUrl</c> (<c>V:tlog/checkpoint.js:61</c>).
    /// </summary>
    private static Checkpoint VerifyCheckpoint(string note, List<TransparencyLogInstance> logs)
    {
        if (!SignedNote.TryParse(note, out _, out var signatures))
        {
            throw ProofError("the checkpoint is not a well-formed signed note");
        }

        var reasons = new List<string>();
        foreach (var log in logs)
        {
            if (TryLoadLogKey(log) is not { } key)
            {
                continue;
            }

            var hint = log.CheckpointKeyHint;
            foreach (var signature in signatures.Where(s => s.KeyId.AsSpan().SequenceEqual(hint)))
            {
                var verifierKey = new NoteVerifierKey(signature.Name, key);
                if (!verifierKey.KeyId.AsSpan().SequenceEqual(hint))
                {
                    continue;
                }

                if (!new NoteVerifier([verifierKey]).TryVerifyCheckpoint(note, out var checkpoint) || checkpoint is null)
                {
                    throw ProofError($"the checkpoint signature by {signature.Name} does not verify with the key of {log.BaseUrl}");
                }

                if (log.BaseUrl.Length > 0 && !log.BaseUrl.Contains(signature.Name, StringComparison.Ordinal))
                {
                    reasons.Add($"the checkpoint is signed as \"{signature.Name}\", which does not match the log URL {log.BaseUrl}");
                    continue;
                }

                return checkpoint;
            }
        }

        throw ProofError(reasons.Count > 0 ? string.Join("; ", reasons) : "the checkpoint carries no signature from a trusted log key");
    }

    private static void VerifySignature(Bundle bundle, byte[]? artifact, byte[] spki, HashAlgorithmName? hash)
    {
        if (bundle.MessageSignature is { } message)
        {
            if (artifact is null)
            {
                throw new VerificationException(VerificationErrorCode.Signature, "the artifact is required to verify a message signature");
            }

            if (message.MessageDigest is { } digest)
            {
                var computed = digest.Algorithm switch
                {
                    "SHA2_256" => SHA256.HashData(artifact),
                    "SHA2_384" => SHA384.HashData(artifact),
                    "SHA2_512" => SHA512.HashData(artifact),
                    _ => throw new VerificationException(VerificationErrorCode.Signature, $"unsupported message digest algorithm {digest.Algorithm}"),
                };
                if (!computed.AsSpan().SequenceEqual(digest.Digest))
                {
                    throw new VerificationException(VerificationErrorCode.Signature, "the artifact's digest does not match the digest in the bundle");
                }
            }

            if (!SignatureKey.Verify(spki, artifact, message.Signature, hash) && !SignatureKey.VerifyEd25519Prehash(spki, artifact, message.Signature))
            {
                throw new VerificationException(VerificationErrorCode.Signature, "the signature does not verify over the artifact with the signing key");
            }

            return;
        }

        var envelope = bundle.DsseEnvelope ?? throw new VerificationException(VerificationErrorCode.Bundle, "the bundle holds no signature");
        if (!SignatureKey.Verify(spki, envelope.Pae(), envelope.Signatures[0].Sig, hash))
        {
            throw new VerificationException(VerificationErrorCode.Signature, "the DSSE signature does not verify over the envelope with the signing key");
        }

        if (artifact is not null)
        {
            VerifySubject(envelope, artifact);
        }
    }

    private static void VerifySubject(Bundles.DsseEnvelope envelope, byte[] artifact)
    {
        if (envelope.PayloadType != InTotoPayloadType)
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the envelope's payload type is {envelope.PayloadType}, not an in-toto statement");
        }

        var expected = Convert.ToHexStringLower(SHA256.HashData(artifact));
        try
        {
            // The signer is not yet checked against the identity policy here (that comes last), so the payload is
            // anyone's: UTF-8 is checked first, or a subject digest with invalid bytes throws when it is read.
            using var statement = JsonInput.Parse(envelope.Payload);
            if (statement.RootElement.TryGetProperty("subject", out var subjects) && subjects.ValueKind == JsonValueKind.Array)
            {
                foreach (var subject in subjects.EnumerateArray())
                {
                    if (subject.ValueKind == JsonValueKind.Object
                        && subject.TryGetProperty("digest", out var digests)
                        && digests.ValueKind == JsonValueKind.Object
                        && digests.TryGetProperty("sha256", out var sha256)
                        && sha256.ValueKind == JsonValueKind.String
                        && string.Equals(sha256.GetString(), expected, StringComparison.OrdinalIgnoreCase))
                    {
                        return;
                    }
                }
            }
        }
        catch (JsonException ex)
        {
            throw new VerificationException(VerificationErrorCode.Subject, "the in-toto statement is not valid JSON", ex);
        }

        throw new VerificationException(VerificationErrorCode.Subject, $"no subject of the in-toto statement has sha256 {expected}");
    }

    private static LogPublicKey? TryLoadLogKey(TransparencyLogInstance log)
    {
        try
        {
            return LogPublicKey.FromSpki(log.PublicKey.RawBytes);
        }
        catch (KeyLoadException)
        {
            return null;
        }
    }

    private static VerificationException ProofError(string message) => new(VerificationErrorCode.TlogInclusionProof, message);

    private static string Describe(TimestampSource source) => source switch
    {
        TimestampSource.TransparencyLog => "log integrated time",
        _ => "RFC 3161 timestamp",
    };
}
