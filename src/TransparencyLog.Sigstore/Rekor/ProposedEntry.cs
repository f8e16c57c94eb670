namespace TransparencyLog.Sigstore.Rekor;

/// <summary>A validated entry, reduced to the canonical body the log stores and hashes (leaf = SHA-256(0x00 || body)).</summary>
public sealed record ProposedEntry(string Kind, string ApiVersion, byte[] CanonicalBody, EntryIndexKeys IndexKeys);
