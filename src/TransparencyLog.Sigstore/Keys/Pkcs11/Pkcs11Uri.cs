using System.Text;

namespace TransparencyLog.Sigstore.Keys.Pkcs11;

/// <summary>
/// A key named by an RFC 7512 PKCS#11 URI, e.g.
/// <c>pkcs11:token=tlog;object=ca-key?module-path=/usr/lib/softhsm/libsofthsm2.so&amp;pin-source=file:/run/secrets/pin</c>.
/// Path attributes: <c>token</c>, <c>serial</c>, <c>object</c>, <c>id</c> (percent-encoded bytes); query attributes:
/// <c>module-path</c>, <c>pin-source</c> (a <c>file:</c> URI or an absolute path), <c>pin-value</c> (RFC 7512; better
/// a file), and our vendor attribute <c>x-pin-env</c> naming an environment variable that holds the PIN.
/// </summary>
public sealed record Pkcs11Uri(
    string? Token,
    string? Serial,
    string? Object,
    byte[]? Id,
    string? ModulePath,
    string? PinSource,
    string? PinValue,
    string? PinEnvironmentVariable)
{
    public const string Scheme = "pkcs11:";

    /// <summary>Longest URI accepted (a real one is under 300 characters).</summary>
    public const int MaxLength = 4096;

    /// <summary>Whether <paramref name="reference"/> names a PKCS#11 key rather than a file.</summary>
    public static bool IsPkcs11([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? reference) =>
        reference is not null && reference.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <exception cref="KeyLoadException">Not a PKCS#11 URI we can use; the message names the problem.</exception>
    public static Pkcs11Uri Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!IsPkcs11(uri))
        {
            throw new KeyLoadException("a PKCS#11 key reference starts with 'pkcs11:'");
        }

        if (uri.Length > MaxLength)
        {
            throw new KeyLoadException($"the PKCS#11 URI is longer than {MaxLength} characters");
        }

        var body = uri[Scheme.Length..];
        var question = body.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? body : body[..question];
        var query = question < 0 ? "" : body[(question + 1)..];
        var attributes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        Read(path, ';', attributes);
        Read(query, '&', attributes);

        string? Text(string name) => attributes.TryGetValue(name, out var value) ? Encoding.UTF8.GetString(value) : null;
        var result = new Pkcs11Uri(
            Text("token"), Text("serial"), Text("object"), attributes.GetValueOrDefault("id"),
            Text("module-path"), Text("pin-source"), Text("pin-value"), Text("x-pin-env"));
        if (result.Object is null && result.Id is null)
        {
            throw new KeyLoadException("the PKCS#11 URI names no key: give object= (label) or id=");
        }

        if (result.Token is null && result.Serial is null)
        {
            throw new KeyLoadException("the PKCS#11 URI names no token: give token= (label) or serial=");
        }

        return result;
    }

    /// <summary>The URI without PIN material, for messages and logs.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Scheme);
        var parts = new List<string>();
        if (Token is not null)
        {
            parts.Add("token=" + Uri.EscapeDataString(Token));
        }

        if (Serial is not null)
        {
            parts.Add("serial=" + Uri.EscapeDataString(Serial));
        }

        if (Object is not null)
        {
            parts.Add("object=" + Uri.EscapeDataString(Object));
        }

        if (Id is not null)
        {
            parts.Add("id=" + string.Concat(Id.Select(b => "%" + b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))));
        }

        return builder.Append(string.Join(';', parts)).ToString();
    }

    private static void Read(string text, char separator, Dictionary<string, byte[]> attributes)
    {
        foreach (var part in text.Split(separator, StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new KeyLoadException($"the PKCS#11 URI attribute '{Name(part)}' has no value");
            }

            var name = part[..equals];
            if (!attributes.TryAdd(name, Decode(part[(equals + 1)..], name)))
            {
                throw new KeyLoadException($"the PKCS#11 URI repeats the attribute '{name}'");
            }
        }
    }

    // The attribute name only: a malformed pin-value must not reach a message.
    private static string Name(string part) => part.Length > 32 ? part[..32] : part.Split('=')[0];

    private static byte[] Decode(string value, string name)
    {
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '%')
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
                continue;
            }

            if (i + 2 >= value.Length || !byte.TryParse(value.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                throw new KeyLoadException($"the PKCS#11 URI attribute '{name}' has an invalid percent-encoding");
            }

            bytes.Add(b);
            i += 2;
        }

        return [.. bytes];
    }
}
