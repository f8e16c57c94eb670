namespace TransparencyLog.Merkle;

internal static class Placeholder
{
}
