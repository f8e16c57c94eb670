namespace TransparencyLog.LogService.Timestamping;

/// <summary>A validated timestamp request, from either the DER or the JSON form.</summary>
/// <param name="HashAlgorithm">Algorithm of the message imprint.</param>
/// <param name="HashParametersNull">Whether the imprint's AlgorithmIdentifier carried NULL parameters (echoed as sent).</param>
/// <param name="HashedMessage">The imprint digest; its length equals the algorithm's digest size.</param>
/// <param name="PolicyOid">Requested policy, if any (not yet checked against the accepted list).</param>
/// <param name="Nonce">Minimal big-endian two's-complement bytes of a positive nonce of at most 160 bits, if any.</param>
/// <param name="CertificateRequested">certReq: whether the token should carry the TSA certificate.</param>
internal sealed record TimestampRequest(
    TimestampHashAlgorithm HashAlgorithm,
    bool HashParametersNull,
    ReadOnlyMemory<byte> HashedMessage,
    string? PolicyOid,
    ReadOnlyMemory<byte>? Nonce,
    bool CertificateRequested);
