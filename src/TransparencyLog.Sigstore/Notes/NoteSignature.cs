namespace TransparencyLog.Sigstore.Notes;

/// <summary>One signature line of a signed note: <c>— name base64(keyId || signature)</c>.</summary>
public sealed record NoteSignature(string Name, byte[] KeyId, byte[] Signature);
