using System.Security.Cryptography;
using System.Text;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>PEM in the one layout sigstore clients expect: LF line ends, 64-column base64, trailing LF.</summary>
internal static class Pem
{
    public static string Encode(string label, ReadOnlySpan<byte> der)
    {
        var base64 = Convert.ToBase64String(der);
        var builder = new StringBuilder(base64.Length + (base64.Length / 64) + (2 * label.Length) + 40);
        builder.Append("-----BEGIN ").Append(label).Append("-----\n");
        for (var i = 0; i < base64.Length; i += 64)
        {
            builder.Append(base64, i, Math.Min(64, base64.Length - i)).Append('\n');
        }

        builder.Append("-----END ").Append(label).Append("-----\n");
        return builder.ToString();
    }

    /// <summary>All PEM blocks in order, as (label, DER). RFC 7468 lax parsing: whitespace and CRLF are tolerated.</summary>
    public static List<(string Label, byte[] Der)> DecodeAll(ReadOnlySpan<char> text, int maxBlocks)
    {
        var blocks = new List<(string, byte[])>();
        while (PemEncoding.TryFind(text, out var fields))
        {
            if (blocks.Count == maxBlocks)
            {
                throw new FormatException($"more than {maxBlocks} PEM blocks");
            }

            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(text[fields.Base64Data], der, out var written) || written != der.Length)
            {
                throw new FormatException("invalid base64 in PEM block");
            }

            blocks.Add((text[fields.Label].ToString(), der));
            text = text[fields.Location.End..];
        }

        return blocks;
    }
}
