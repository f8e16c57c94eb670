namespace TransparencyLog.Sigstore.Bundles;

/// <summary>A bundle, trusted root or signing config is not valid JSON of the expected shape. The message names the field.</summary>
public sealed class BundleFormatException(string message) : Exception(message);
