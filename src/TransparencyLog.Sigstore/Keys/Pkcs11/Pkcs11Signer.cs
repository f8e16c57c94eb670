using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace TransparencyLog.Sigstore.Keys.Pkcs11;

/// <summary>
/// A signing key inside a PKCS#11 token (an HSM, SoftHSM2), through the module's function list
/// (<see cref="Pkcs11Module"/>: C function pointers, so the same under Native AOT): ECDSA P-256/384/521
/// (<c>CKM_ECDSA</c> over a digest computed here), RSA (<c>CKM_SHA256_RSA_PKCS</c>) and Ed25519 (<c>CKM_EDDSA</c>).
/// The private key never leaves the token; the PIN is used for <c>C_Login</c> and never kept in a message.
/// </summary>
public sealed class Pkcs11Signer : ISigner
{
    /// <summary>The environment variable naming the module when the URI has no <c>module-path</c>.</summary>
    public const string ModuleEnvironmentVariable = "TLOG_PKCS11_MODULE";

    private const ulong CkkEcEdwards = 0x40;
    private const int MaxPinBytes = 256;

    // C_Initialize runs once per module and process; every key of one module shares the loaded library.
    private static readonly ConcurrentDictionary<string, Lazy<Pkcs11Module>> _libraries = new(StringComparer.Ordinal);

    private readonly Pkcs11Module _module;
    private readonly ulong _session;
    private readonly ulong _privateKey;
    private readonly Lock _gate = new();
    private bool _disposed;

    private Pkcs11Signer(Pkcs11Module module, ulong session, ulong privateKey, SignatureAlgorithm algorithm, byte[] spki, string description)
    {
        _module = module;
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
        var modulePath = parsed.ModulePath ?? environment(ModuleEnvironmentVariable)
            ?? throw new KeyLoadException($"the PKCS#11 URI has no module-path and {ModuleEnvironmentVariable} is not set");
        var pin = ReadPin(parsed, environment);
        try
        {
            var module = Load(modulePath);
            var slot = FindSlot(module, parsed);
            var session = module.OpenSession(slot);
            try
            {
                module.Login(session, pin);
                var privateKey = FindOne(module, session, Pkcs11Module.CkoPrivateKey, parsed, "private key");
                var publicKey = FindOne(module, session, Pkcs11Module.CkoPublicKey, parsed, "public key");
                var (algorithm, spki) = ReadPublicKey(module, session, publicKey);
                return new Pkcs11Signer(module, session, privateKey, algorithm, spki, parsed.ToString());
            }
            catch
            {
                module.CloseSession(session);
                throw;
            }
        }
        catch (Pkcs11CallException e)
        {
            // The return value names the problem (CKR_PIN_INCORRECT, CKR_TOKEN_NOT_PRESENT, ...); never the PIN.
            throw new KeyLoadException($"PKCS#11 key {parsed}: {e.Message}", e);
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
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                signature = Algorithm switch
                {
                    SignatureAlgorithm.Ed25519 => _module.Sign(_session, _privateKey, Pkcs11Module.CkmEddsa, data.Span),
                    SignatureAlgorithm.RsaPkcs1Sha256 => _module.Sign(_session, _privateKey, Pkcs11Module.CkmSha256RsaPkcs, data.Span),
                    _ => _module.Sign(_session, _privateKey, Pkcs11Module.CkmEcdsa, Digest(data.Span)),
                };
            }
            catch (Pkcs11CallException e)
            {
                throw new CryptographicException($"PKCS#11 key {Description}: {e.Message}", e);
            }
        }

        return ValueTask.FromResult(Algorithm is SignatureAlgorithm.Ed25519 or SignatureAlgorithm.RsaPkcs1Sha256
            ? signature
            : RawToDer(signature));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _module.CloseSession(_session);
            }
        }
    }

    private byte[] Digest(ReadOnlySpan<byte> data) => Algorithm.Hash()!.Value.Name switch
    {
        "SHA384" => SHA384.HashData(data),
        "SHA512" => SHA512.HashData(data),
        _ => SHA256.HashData(data),
    };

    private static Pkcs11Module Load(string module)
    {
        var lazy = _libraries.GetOrAdd(module, static path => new Lazy<Pkcs11Module>(
            () => Pkcs11Module.Load(path),
            LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch (Exception e) when (e is not Pkcs11CallException)
        {
            _libraries.TryRemove(module, out _);
            throw new KeyLoadException($"the PKCS#11 module '{module}' cannot be loaded ({e.GetType().Name})", e);
        }
    }

    private static ulong FindSlot(Pkcs11Module module, Pkcs11Uri uri)
    {
        var matches = module.SlotsWithToken().Where(slot =>
        {
            var (label, serial) = module.TokenInfo(slot);
            return (uri.Token is null || label.TrimEnd() == uri.Token)
                && (uri.Serial is null || serial.TrimEnd() == uri.Serial);
        }).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new KeyLoadException($"PKCS#11 key {uri}: no token with that label/serial is present"),
            _ => throw new KeyLoadException($"PKCS#11 key {uri}: {matches.Count} tokens match; add serial="),
        };
    }

    private static ulong FindOne(Pkcs11Module module, ulong session, ulong type, Pkcs11Uri uri, string what)
    {
        var template = new List<(ulong, byte[])> { (Pkcs11Module.CkaClass, Pkcs11Module.UlongBytes(type)) };
        if (uri.Object is not null)
        {
            template.Add((Pkcs11Module.CkaLabel, Encoding.UTF8.GetBytes(uri.Object)));
        }

        if (uri.Id is not null)
        {
            template.Add((Pkcs11Module.CkaId, uri.Id));
        }

        var found = module.FindObjects(session, template);
        return found.Length switch
        {
            1 => found[0],
            0 => throw new KeyLoadException($"PKCS#11 key {uri}: no {what} object with that label/id in the token"),
            _ => throw new KeyLoadException($"PKCS#11 key {uri}: {found.Length} {what} objects match; add id="),
        };
    }

    private static (SignatureAlgorithm, byte[]) ReadPublicKey(Pkcs11Module module, ulong session, ulong publicKey)
    {
        var type = module.UlongAttribute(session, publicKey, Pkcs11Module.CkaKeyType);
        if (type == Pkcs11Module.CkkRsa)
        {
            using var rsa = RSA.Create(new RSAParameters
            {
                Modulus = module.Attribute(session, publicKey, Pkcs11Module.CkaModulus),
                Exponent = module.Attribute(session, publicKey, Pkcs11Module.CkaPublicExponent),
            });
            return (SignatureAlgorithm.RsaPkcs1Sha256, rsa.ExportSubjectPublicKeyInfo());
        }

        var point = Unwrap(module.Attribute(session, publicKey, Pkcs11Module.CkaEcPoint));
        if (type == CkkEcEdwards)
        {
            return point.Length == Asn1Keys.Ed25519KeySize
                ? (SignatureAlgorithm.Ed25519, Asn1Keys.Ed25519Spki(point))
                : throw new KeyLoadException("the token's Edwards key is not Ed25519 (only Ed25519 is supported)");
        }

        if (type != Pkcs11Module.CkkEc)
        {
            throw new KeyLoadException($"the token's key type 0x{type:x} is not supported (ECDSA, RSA or Ed25519)");
        }

        var curve = new AsnReader(module.Attribute(session, publicKey, Pkcs11Module.CkaEcParams), AsnEncodingRules.DER).ReadObjectIdentifier();
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

    /// <summary>PKCS#11 ECDSA signatures are r‖s; X.509, CMS and sigstore want DER <c>SEQUENCE{r, s}</c>.</summary>
    private static byte[] RawToDer(byte[] raw)
    {
        var half = raw.Length / 2;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(raw.AsSpan(0, half));
            writer.WriteIntegerUnsigned(raw.AsSpan(half));
        }

        return writer.Encode();
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

        return Encoding.UTF8.GetBytes(pin);
    }
}
