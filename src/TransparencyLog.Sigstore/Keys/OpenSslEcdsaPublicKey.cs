using System.Formats.Asn1;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// A submitter's ECDSA public key (P-256, P-384 or P-521, named curve, uncompressed point) held by OpenSSL's
/// <c>EC_KEY</c> API, for verification only. On OpenSSL 3 the BCL's import of a key
/// (<see cref="ECDsa.ImportSubjectPublicKeyInfo"/>) goes through the provider layer and a full public-key validation
/// and costs more than the verification it serves (measured on this service's machine: ~100-150 µs per P-256 import
/// plus 60-80 µs per verification, against ~80 µs for this type's import and verification together). Keyless signers
/// send a new key with every entry, so that import was the largest single cost of an append.
/// </summary>
/// <remarks>
/// Same verdicts as the BCL's key: only an SPKI of exactly the canonical shape is taken (<see cref="TryImport"/>
/// answers null for anything else, and the caller uses the BCL); OpenSSL decodes the point with its on-curve check and
/// refuses coordinates outside the field, which for these prime-order curves is the BCL's whole validation (its
/// order check cannot fail for a point on the curve); and the verification is OpenSSL's ECDSA verification, which the
/// BCL's key calls too (DER only: a signature that is not exactly the DER of its values is refused by both). One
/// verification at a time per object, like every key this service shares.
/// </remarks>
internal sealed class OpenSslEcdsaPublicKey : ECDsa
{
    private const string LibCrypto = "libcrypto.so.3";

    private static readonly bool s_available = Probe();

    private readonly EcKeyHandle _key;

    private OpenSslEcdsaPublicKey(EcKeyHandle key, int keySize)
    {
        _key = key;
        KeySizeValue = keySize;
        LegalKeySizesValue = [new KeySizes(keySize, keySize, 0)];
    }

    /// <summary>
    /// The key of <paramref name="spki"/>, or null when this type does not take it (not Linux with OpenSSL 3, or not
    /// the canonical named-curve, uncompressed-point shape): the caller imports it with the BCL then.
    /// </summary>
    /// <exception cref="CryptographicException">OpenSSL refused the point (not on the curve, a coordinate outside the
    /// field), as the BCL's import would.</exception>
    public static OpenSslEcdsaPublicKey? TryImport(byte[] spki)
    {
        if (!s_available || CanonicalKeySize(spki) is not { } keySize)
        {
            return null;
        }

        var pinned = GCHandle.Alloc(spki, GCHandleType.Pinned);
        try
        {
            var start = pinned.AddrOfPinnedObject();
            var cursor = start;
            var key = D2iEcPubkey(IntPtr.Zero, ref cursor, spki.Length);
            if (key.IsInvalid || cursor - start != spki.Length)
            {
                key.Dispose();
                ErrClearError();
                throw new CryptographicException("invalid EC public key");
            }

            return new OpenSslEcdsaPublicKey(key, keySize);
        }
        finally
        {
            pinned.Free();
        }
    }

    /// <summary>
    /// The curve's size in bits when <paramref name="spki"/> is exactly
    /// <c>SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING 04 || X || Y }</c> in DER for P-256, P-384 or
    /// P-521 with coordinates of the curve's length; null otherwise.
    /// </summary>
    internal static int? CanonicalKeySize(byte[] spki)
    {
        try
        {
            var reader = new AsnReader(spki, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            var algorithm = info.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != Oids.EcPublicKey)
            {
                return null;
            }

            var (bits, coordinate) = algorithm.ReadObjectIdentifier() switch
            {
                Oids.P256 => (256, 32),
                Oids.P384 => (384, 48),
                Oids.P521 => (521, 66),
                _ => (0, 0),
            };
            if (bits == 0 || algorithm.HasData)
            {
                return null;
            }

            if (!info.TryReadPrimitiveBitString(out var unused, out var point) || unused != 0 || info.HasData || reader.HasData)
            {
                return null;
            }

            return point.Length == 1 + 2 * coordinate && point.Span[0] == 0x04 ? bits : null;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    protected override bool VerifyHashCore(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature, DSASignatureFormat signatureFormat)
    {
        ObjectDisposedException.ThrowIf(_key.IsClosed, this);
        if (signatureFormat != DSASignatureFormat.Rfc3279DerSequence)
        {
            throw new NotSupportedException("only DER signatures are verified with this key");
        }

        if (signature.IsEmpty)
        {
            return false;
        }

        // A zero-length digest needs a valid pointer too.
        Span<byte> empty = [0];
        var digest = hash.IsEmpty ? empty : hash;
        var result = EcdsaVerify(0, ref MemoryMarshal.GetReference(digest), hash.Length, ref MemoryMarshal.GetReference(signature), signature.Length, _key);
        if (result != 1)
        {
            // A refusal or a malformed signature: OpenSSL queues an error that must not reach another caller's check.
            ErrClearError();
        }

        return result == 1;
    }

    public override bool VerifyHash(byte[] hash, byte[] signature) =>
        throw new NotSupportedException("only DER signatures are verified with this key");

    public override byte[] SignHash(byte[] hash) => throw new NotSupportedException("a public key signs nothing");

    public override ECParameters ExportParameters(bool includePrivateParameters) =>
        throw new NotSupportedException("this key is held for verification only");

    public override void ImportParameters(ECParameters parameters) =>
        throw new NotSupportedException("this key is held for verification only");

    public override ECParameters ExportExplicitParameters(bool includePrivateParameters) =>
        throw new NotSupportedException("this key is held for verification only");

    public override void GenerateKey(ECCurve curve) => throw new NotSupportedException("this key is held for verification only");

    protected override byte[] HashData(byte[] data, int offset, int count, HashAlgorithmName hashAlgorithm) =>
        CryptographicOperations.HashData(hashAlgorithm, data.AsSpan(offset, count));

    protected override byte[] HashData(Stream data, HashAlgorithmName hashAlgorithm) =>
        CryptographicOperations.HashData(hashAlgorithm, data);

    protected override bool TryHashData(ReadOnlySpan<byte> data, Span<byte> destination, HashAlgorithmName hashAlgorithm, out int bytesWritten) =>
        CryptographicOperations.TryHashData(hashAlgorithm, data, destination, out bytesWritten);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _key.Dispose();
        }

        base.Dispose(disposing);
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(LibCrypto, typeof(OpenSslEcdsaPublicKey).Assembly, null, out var library))
        {
            return false;
        }

        return NativeLibrary.TryGetExport(library, "d2i_EC_PUBKEY", out _)
            && NativeLibrary.TryGetExport(library, "ECDSA_verify", out _)
            && NativeLibrary.TryGetExport(library, "EC_KEY_free", out _)
            && NativeLibrary.TryGetExport(library, "ERR_clear_error", out _);
    }

    [DllImport(LibCrypto, EntryPoint = "d2i_EC_PUBKEY")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern EcKeyHandle D2iEcPubkey(IntPtr key, ref IntPtr cursor, nint length);

    [DllImport(LibCrypto, EntryPoint = "ECDSA_verify")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int EcdsaVerify(int type, ref byte digest, int digestLength, ref byte signature, int signatureLength, EcKeyHandle key);

    [DllImport(LibCrypto, EntryPoint = "EC_KEY_free")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern void EcKeyFree(IntPtr key);

    [DllImport(LibCrypto, EntryPoint = "ERR_clear_error")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern void ErrClearError();

    /// <summary>An OpenSSL <c>EC_KEY</c>, freed once whatever happens to the object holding it.</summary>
    private sealed class EcKeyHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
    {
        protected override bool ReleaseHandle()
        {
            EcKeyFree(handle);
            return true;
        }
    }
}
