using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Cli.Images;

/// <summary>
/// <c>attest</c> and <c>verify-attestation</c> take a file (blob attestations) or an image (as cosign's do): an argument
/// that names a registry image and is not a file on disk sends the command line to the image variant.
/// </summary>
internal static class ImageCommandRouting
{
    public const string AttestImage = "attest-image";
    public const string VerifyAttestationImage = "verify-attestation-image";

    public static string[] Route(string[] args)
    {
        if (args.Length < 2 || args[0] is not ("attest" or "verify-attestation"))
        {
            return args;
        }

        var names = args.Skip(1).Any(NamesRegistryImage);
        return names ? [args[0] == "attest" ? AttestImage : VerifyAttestationImage, .. args[1..]] : args;
    }

    private static bool NamesRegistryImage(string token)
    {
        if (token.StartsWith('-') || !token.Contains('/', StringComparison.Ordinal) || File.Exists(token) || Directory.Exists(token))
        {
            return false;
        }

        var first = token[..token.IndexOf('/', StringComparison.Ordinal)];
        if (!(first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost") || first.StartsWith('.'))
        {
            return false;
        }

        try
        {
            ImageReference.Parse(token);
            return true;
        }
        catch (OciException)
        {
            return false;
        }
    }
}
