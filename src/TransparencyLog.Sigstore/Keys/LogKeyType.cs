namespace TransparencyLog.Sigstore.Keys;

/// <summary>Key types a log may sign with. ECDSA is P-256 only: sigstore-js verifies SETs and checkpoints with SHA-256.</summary>
public enum LogKeyType
{
    EcdsaP256,
    Ed25519,
}
