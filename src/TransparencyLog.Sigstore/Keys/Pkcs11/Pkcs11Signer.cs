using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace TransparencyLog.Sigstore.Keys.Pkcs11;

/// <summary>
/// A signing key inside a PKCS#11 token (an HSM, SoftHSM2), through Pkcs11Interop: ECDSA P-256/384/521
/// (<c>CKM_ECDSA</c> over a digest computed here), RSA (<c>CKM_SHA256_RSA_PKCS</c>) and Ed25519 (<c>CKM_EDDSA</c>).
/// The private key never leaves the token; the PIN is used for <c>C_Login</c> and never kept in a message.
/// </summary>
public sealed class Pkcs11Signer : ISigner
{
    /// <summary>The environment variable naming the module when the URI has no <c>module-path</c>.</summary>
    public const string ModuleEnvironmentVariable = "TLOG_PKCS11_MODULE";

    private const ulong CkmEddsa = 0x1057;
    private const ulong CkkEcEdwards = 0x40;
    private const int MaxPinBytes = 256;

    // C_Initialize runs once per module and process; every key of one module shares the loaded library.
    private static readonly ConcurrentDictionary<string, Lazy<IPkcs11Library>> _libraries = new(StringComparer.Ordinal);
    private static readonly Pkcs11InteropFactories _factories = new();

    static Pkcs11Signer()
    {
        // Pkcs11Interop 5 imports dlopen from "libdl"; glibc 2.34+ ships only libdl.so.2 (libdl.so comes with the
        // -dev package), so the bare name is resolved to the runtime library.
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, assembly, path) =>
            name == "libdl" && OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libdl.so.2", assembly, path, out var handle)
                ? handle
                : IntPtr.Zero);
    }

    private readonly ISession _session;
    private readonly IObjectHandle _privateKey;
    private readonly Lock _gate = new();

    private Pkcs11Signer(ISession session, IObjectHandle privateKey, SignatureAlgorithm algorithm, byte[] spki, string description)
    {
        _session = session;
        _privateKey = privateKey;
        Algorithm = algorithm;
        PublicKeySpki = spki;
        Description = description;
    }

    public SignatureAlgorithm Algorithm { get; }

    public ReadOnlyMemory<byte> PublicKeySpki { get; }

    /// <summary>The key's URI without PIN material.</summary>
    public string Description { get; }

    /// <summary>Opens the key a <c>pkcs11:</c> URI names and logs in to its token.</summary>
    /// <exception cref="KeyLoadException">The module, token, key or PIN is missing or wrong; the message says which.</exception>
    public static Pkcs11Signer Open(string uri, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var parsed = Pkcs11Uri.Parse(uri);
        var module = parsed.ModulePath ?? environment(ModuleEnvironmentVariable)
            ?? throw new KeyLoadException($"the PKCS#11 URI has no module-path and {ModuleEnvironmentVariable} is not set");
        var pin = ReadPin(parsed, environment);
        try
        {
            var library = Load(module);
            var slot = FindSlot(library, parsed);
            var session = slot.OpenSession(SessionType.ReadOnly);
            try
            {
                Login(session, pin);
                var privateKey = FindOne(session, CKO.CKO_PRIVATE_KEY, parsed, "private key");
                var publicKey = FindOne(session, CKO.CKO_PUBLIC_KEY, parsed, "public key");
                var (algorithm, spki) = ReadPublicKey(session, publicKey);
                return new Pkcs11Signer(session, privateKey, algorithm, spki, parsed.ToString());
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
        catch (Pkcs11Exception e)
        {
            // The return value names the problem (CKR_PIN_INCORRECT, CKR_TOKEN_NOT_PRESENT, ...); never the PIN.
            throw new KeyLoadException($"PKCS#11 key {parsed}: {e.Method} failed with {e.RV}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }
    }

    public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        byte[] signature;
        // One session per key; PKCS#11 forbids concurrent operations on a session.
        lock (_gate)
        {
            signature = Algorithm switch
            {
                SignatureAlgorithm.Ed25519 => _session.Sign(_factories.MechanismFactory.Create(CkmEddsa), _privateKey, data.ToArray()),
                SignatureAlgorithm.RsaPkcs1Sha256 => _session.Sign(_factories.MechanismFactory.Create(CKM.CKM_SHA256_RSA_PKCS), _privateKey, data.ToArray()),
                _ => _session.Sign(_factories.MechanismFactory.Create(CKM.CKM_ECDSA), _privateKey, Digest(data.Span)),
            };
        }

        return ValueTask.FromResult(Algorithm is SignatureAlgorithm.Ed25519 or SignatureAlgorithm.RsaPkcs1Sha256
            ? signature
            : RawToDer(signature));
    }

    public void Dispose() => _session.Dispose();

    private byte[] Digest(ReadOnlySpan<byte> data) => Algorithm.Hash()!.Value.Name switch
    {
        "SHA384" => SHA384.HashData(data),
        "SHA512" => SHA512.HashData(data),
        _ => SHA256.HashData(data),
    };

    private static IPkcs11Library Load(string module)
    {
        var lazy = _libraries.GetOrAdd(module, path => new Lazy<IPkcs11Library>(
            () => _factories.Pkcs11LibraryFactory.LoadPkcs11Library(_factories, path, AppType.MultiThreaded),
            LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch (Exception e) when (e is not Pkcs11Exception)
        {
            _libraries.TryRemove(module, out _);
            throw new KeyLoadException($"the PKCS#11 module '{module}' cannot be loaded ({e.GetType().Name})", e);
        }
    }

    private static ISlot FindSlot(IPkcs11Library library, Pkcs11Uri uri)
    {
        var matches = library.GetSlotList(SlotsType.WithTokenPresent).Where(slot =>
        {
            var token = slot.GetTokenInfo();
            return (uri.Token is null || token.Label.TrimEnd() == uri.Token)
                && (uri.Serial is null || token.SerialNumber.TrimEnd() == uri.Serial);
        }).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new KeyLoadException($"PKCS#11 key {uri}: no token with that label/serial is present"),
            _ => throw new KeyLoadException($"PKCS#11 key {uri}: {matches.Count} tokens match; add serial="),
        };
    }

    private static void Login(ISession session, byte[] pin)
    {
        try
        {
            session.Login(CKU.CKU_USER, pin);
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Login state is per token and application: another key of this token logged in already.
        }
    }

    private static IObjectHandle FindOne(ISession session, CKO type, Pkcs11Uri uri, string what)
    {
        var template = new List<IObjectAttribute> { _factories.ObjectAttributeFactory.Create(CKA.CKA_CLASS, type) };
        if (uri.Object is not null)
        {
            template.Add(_factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, uri.Object));
        }

        if (uri.Id is not null)
        {
            template.Add(_factories.ObjectAttributeFactory.Create(CKA.CKA_ID, uri.Id));
        }

        var found = session.FindAllObjects(template);
        return found.Count switch
        {
            1 => found[0],
            0 => throw new KeyLoadException($"PKCS#11 key {uri}: no {what} object with that label/id in the token"),
            _ => throw new KeyLoadException($"PKCS#11 key {uri}: {found.Count} {what} objects match; add id="),
        };
    }

    private static (SignatureAlgorithm, byte[]) ReadPublicKey(ISession session, IObjectHandle publicKey)
    {
        var type = session.GetAttributeValue(publicKey, [CKA.CKA_KEY_TYPE])[0].GetValueAsUlong();
        if (type == (ulong)CKK.CKK_RSA)
        {
            var values = session.GetAttributeValue(publicKey, [CKA.CKA_MODULUS, CKA.CKA_PUBLIC_EXPONENT]);
            using var rsa = RSA.Create(new RSAParameters { Modulus = values[0].GetValueAsByteArray(), Exponent = values[1].GetValueAsByteArray() });
            return (SignatureAlgorithm.RsaPkcs1Sha256, rsa.ExportSubjectPublicKeyInfo());
        }

        var ec = session.GetAttributeValue(publicKey, [CKA.CKA_EC_PARAMS, CKA.CKA_EC_POINT]);
        var point = Unwrap(ec[1].GetValueAsByteArray());
        if (type == CkkEcEdwards)
        {
            return point.Length == Asn1Keys.Ed25519KeySize
                ? (SignatureAlgorithm.Ed25519, Asn1Keys.Ed25519Spki(point))
                : throw new KeyLoadException("the token's Edwards key is not Ed25519 (only Ed25519 is supported)");
        }

        if (type != (ulong)CKK.CKK_EC)
        {
            throw new KeyLoadException($"the token's key type 0x{type:x} is not supported (ECDSA, RSA or Ed25519)");
        }

        var curve = new AsnReader(ec[0].GetValueAsByteArray(), AsnEncodingRules.DER).ReadObjectIdentifier();
        var size = (point.Length - 1) / 2;
        if (point.Length < 3 || point[0] != 0x04 || point.Length != 1 + (2 * size))
        {
            throw new KeyLoadException("the token's EC public key is not an uncompressed point");
        }

        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.CreateFromValue(curve),
            Q = new ECPoint { X = point[1..(1 + size)], Y = point[(1 + size)..] },
        });
        return (SignatureAlgorithms.For(ecdsa), ecdsa.ExportSubjectPublicKeyInfo());
    }

    /// <summary>CKA_EC_POINT is a DER OCTET STRING (PKCS#11 2.40); some modules return the bare point.</summary>
    private static byte[] Unwrap(byte[] value)
    {
        try
        {
            var reader = new AsnReader(value, AsnEncodingRules.DER);
            var inner = reader.ReadOctetString();
            return reader.HasData ? value : inner;
        }
        catch (AsnContentException)
        {
            return value;
        }
    }

    /// <summary>
    /// PKCS#11 ECDSA signatures are r‖s, each padded to the curve's size; X.509, CMS and sigstore want DER
    /// <c>SEQUENCE{r, s}</c>. About one value in 256 starts with a zero byte, which DER leaves out.
    /// </summary>
    internal static byte[] RawToDer(ReadOnlySpan<byte> raw)
    {
        var half = raw.Length / 2;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(WithoutLeadingZeros(raw[..half]));
            writer.WriteIntegerUnsigned(WithoutLeadingZeros(raw[half..]));
        }

        return writer.Encode();
    }

    private static ReadOnlySpan<byte> WithoutLeadingZeros(ReadOnlySpan<byte> value)
    {
        var start = 0;
        while (start < value.Length - 1 && value[start] == 0)
        {
            start++;
        }

        return value[start..];
    }

    private static byte[] ReadPin(Pkcs11Uri uri, Func<string, string?> environment)
    {
        string? pin;
        if (uri.PinSource is { } source)
        {
            // RFC 7512 pin-source is a URI: file:/path or file:///path; a bare absolute path is accepted too.
            var path = source.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? source["file:".Length..] : source;
            path = path.StartsWith("//", StringComparison.Ordinal) ? path[2..] : path;
            try
            {
                var info = new FileInfo(path);
                if (info.Exists && info.Length > MaxPinBytes)
                {
                    throw new KeyLoadException($"the PIN file '{path}' is larger than {MaxPinBytes} bytes");
                }

                pin = File.ReadAllText(path).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KeyLoadException($"the PIN file '{path}' cannot be read ({e.GetType().Name})", e);
            }
        }
        else if (uri.PinEnvironmentVariable is { } variable)
        {
            pin = environment(variable) ?? throw new KeyLoadException($"the PIN variable {variable} is not set");
        }
        else
        {
            pin = uri.PinValue ?? throw new KeyLoadException("the PKCS#11 URI gives no PIN: add pin-source=file:... or x-pin-env=VARIABLE");
        }

        return System.Text.Encoding.UTF8.GetBytes(pin);
    }
}
