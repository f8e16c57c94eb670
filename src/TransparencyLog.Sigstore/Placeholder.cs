namespace TransparencyLog.Sigstore;

internal static class Placeholder
{
}
