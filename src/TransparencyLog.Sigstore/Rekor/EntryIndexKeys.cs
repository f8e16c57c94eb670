namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// Search keys for <c>POST /api/v1/index/retrieve</c>.
/// </summary>
/// <param name="Hashes"><c>sha256:&lt;hex&gt;</c> (or sha384/sha512) of the artifact digest; for dsse the payload and envelope hashes.</param>
/// <param name="PublicKeyFingerprints">
/// Lowercase hex SHA-256 of the signer's DER SubjectPublicKeyInfo (for a certificate, of the certificate's SPKI, not
/// of the certificate), so one key is found whether it was submitted bare or inside a certificate. Note that real
/// Rekor hashes the PEM text instead; a search-by-key endpoint must hash the SPKI the same way as here.
/// </param>
/// <param name="Identities">Lowercased rfc822Name and URI subject alternative names of the signing certificate.</param>
public sealed record EntryIndexKeys(
    IReadOnlyList<string> Hashes,
    IReadOnlyList<string> PublicKeyFingerprints,
    IReadOnlyList<string> Identities);
