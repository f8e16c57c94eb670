using System.Runtime.InteropServices;
using System.Text;

namespace TransparencyLog.Sigstore.Keys.Pkcs11;

/// <summary>A PKCS#11 call that returned something other than CKR_OK: the function and the return value, never arguments.</summary>
public sealed class Pkcs11CallException(string method, ulong returnValue)
    : Exception($"{method} failed with {Pkcs11Module.Name(returnValue)}")
{
    public string Method { get; } = method;

    public ulong ReturnValue { get; } = returnValue;
}

/// <summary>
/// The dozen PKCS#11 (v2.40) calls <see cref="Pkcs11Signer"/> makes, through the module's CK_FUNCTION_LIST and C
/// function pointers: no delegates and no runtime marshalling, so it works the same under Native AOT (where
/// Pkcs11Interop's delegate marshalling fails). CK_ULONG is C <c>unsigned long</c> (<see cref="CULong"/>: 64 bits on
/// Linux and macOS, 32 on Windows).
/// </summary>
internal sealed unsafe class Pkcs11Module
{
    public const ulong CkrOk = 0;
    public const ulong CkrCryptokiAlreadyInitialized = 0x191;
    public const ulong CkrUserAlreadyLoggedIn = 0x100;
    public const ulong CkrBufferTooSmall = 0x150;
    public const ulong CkoPublicKey = 2;
    public const ulong CkoPrivateKey = 3;
    public const ulong CkaClass = 0x0;
    public const ulong CkaLabel = 0x3;
    public const ulong CkaKeyType = 0x100;
    public const ulong CkaId = 0x102;
    public const ulong CkaModulus = 0x120;
    public const ulong CkaPublicExponent = 0x122;
    public const ulong CkaEcParams = 0x180;
    public const ulong CkaEcPoint = 0x181;
    public const ulong CkkRsa = 0x0;
    public const ulong CkkEc = 0x3;
    public const ulong CkmSha256RsaPkcs = 0x40;
    public const ulong CkmEcdsa = 0x1041;
    public const ulong CkmEddsa = 0x1057;
    public const ulong CkuUser = 1;

    private const ulong CkfOsLockingOk = 0x2;
    private const ulong CkfSerialSession = 0x4;
    private const int MaxObjects = 16;

    // Indices in CK_FUNCTION_LIST (PKCS#11 v2.40 §5.14, after the CK_VERSION).
    private const int CInitialize = 0;
    private const int CGetSlotList = 4;
    private const int CGetTokenInfo = 6;
    private const int COpenSession = 12;
    private const int CCloseSession = 13;
    private const int CLogin = 18;
    private const int CGetAttributeValue = 24;
    private const int CFindObjectsInit = 26;
    private const int CFindObjects = 27;
    private const int CFindObjectsFinal = 28;
    private const int CSignInit = 42;
    private const int CSign = 43;

    // The module stays loaded for the process, as C_Initialize'd modules must until C_Finalize.
    private readonly void** _functions;

    private Pkcs11Module(void** functions) => _functions = functions;

    /// <summary>Loads the module and calls C_Initialize (OS locking: the module may be used from several threads).</summary>
    /// <exception cref="DllNotFoundException">The library cannot be loaded.</exception>
    /// <exception cref="EntryPointNotFoundException">It has no C_GetFunctionList.</exception>
    /// <exception cref="Pkcs11CallException">C_GetFunctionList or C_Initialize failed.</exception>
    public static Pkcs11Module Load(string path)
    {
        var library = NativeLibrary.Load(path);
        try
        {
            var getFunctionList = (delegate* unmanaged<void**, CULong>)NativeLibrary.GetExport(library, "C_GetFunctionList");
            void* list = null;
            Check("C_GetFunctionList", getFunctionList(&list));
            if (list == null)
            {
                throw new Pkcs11CallException("C_GetFunctionList", 0x5); // CKR_GENERAL_ERROR
            }

            // CK_FUNCTION_LIST is { CK_VERSION version; CK_C_xxx pointers... }: the pointers start at pointer alignment
            // (Windows modules are packed to 1 byte, after the 2-byte version).
            var offset = OperatingSystem.IsWindows() ? 2 : sizeof(nint);
            var module = new Pkcs11Module((void**)((byte*)list + offset));
            var args = stackalloc nint[6];
            new Span<nint>(args, 6).Clear();
            ((CULong*)(args + 4))[0] = new CULong((nuint)CkfOsLockingOk);
            var rv = ((delegate* unmanaged<void*, CULong>)module.Function(CInitialize))(args);
            if (rv.Value != (nuint)CkrCryptokiAlreadyInitialized)
            {
                Check("C_Initialize", rv);
            }

            return module;
        }
        catch
        {
            NativeLibrary.Free(library);
            throw;
        }
    }

    /// <summary>The slots with a token present.</summary>
    public ulong[] SlotsWithToken()
    {
        var getSlotList = (delegate* unmanaged<byte, CULong*, CULong*, CULong>)Function(CGetSlotList);
        CULong count;
        Check("C_GetSlotList", getSlotList(1, null, &count));
        var slots = new CULong[(int)count.Value];
        fixed (CULong* p = slots)
        {
            Check("C_GetSlotList", getSlotList(1, p, &count));
        }

        return [.. slots.Take((int)count.Value).Select(static s => (ulong)s.Value)];
    }

    /// <summary>The token's label and serial number, blank-padded as PKCS#11 gives them.</summary>
    public (string Label, string Serial) TokenInfo(ulong slot)
    {
        // CK_TOKEN_INFO starts with label[32], manufacturerID[32], model[16], serialNumber[16]; the rest is not read.
        var info = stackalloc byte[1024];
        Check("C_GetTokenInfo", ((delegate* unmanaged<CULong, byte*, CULong>)Function(CGetTokenInfo))(Ulong(slot), info));
        return (Encoding.UTF8.GetString(info, 32), Encoding.UTF8.GetString(info + 80, 16));
    }

    /// <summary>A read-only session on the slot's token.</summary>
    public ulong OpenSession(ulong slot)
    {
        CULong session;
        Check("C_OpenSession", ((delegate* unmanaged<CULong, CULong, void*, void*, CULong*, CULong>)Function(COpenSession))(
            Ulong(slot), Ulong(CkfSerialSession), null, null, &session));
        return session.Value;
    }

    public void CloseSession(ulong session) =>
        ((delegate* unmanaged<CULong, CULong>)Function(CCloseSession))(Ulong(session));

    /// <summary>C_Login as the user; false when the token's user is logged in already (by another session of this process).</summary>
    public bool Login(ulong session, ReadOnlySpan<byte> pin)
    {
        fixed (byte* p = pin)
        {
            var rv = ((delegate* unmanaged<CULong, CULong, byte*, CULong, CULong>)Function(CLogin))(Ulong(session), Ulong(CkuUser), p, Ulong((ulong)pin.Length));
            if (rv.Value == (nuint)CkrUserAlreadyLoggedIn)
            {
                return false;
            }

            Check("C_Login", rv);
            return true;
        }
    }

    /// <summary>The objects matching every attribute given (at most <see cref="MaxObjects"/> are returned).</summary>
    public ulong[] FindObjects(ulong session, IReadOnlyList<(ulong Type, byte[] Value)> template)
    {
        var handles = new List<GCHandle>(template.Count);
        var attributes = new CkAttribute[template.Count];
        try
        {
            for (var i = 0; i < template.Count; i++)
            {
                var pinned = GCHandle.Alloc(template[i].Value, GCHandleType.Pinned);
                handles.Add(pinned);
                attributes[i] = new CkAttribute { Type = Ulong(template[i].Type), Value = (void*)pinned.AddrOfPinnedObject(), Length = Ulong((ulong)template[i].Value.Length) };
            }

            var found = stackalloc CULong[MaxObjects];
            CULong count;
            fixed (CkAttribute* a = attributes)
            {
                Check("C_FindObjectsInit", ((delegate* unmanaged<CULong, CkAttribute*, CULong, CULong>)Function(CFindObjectsInit))(Ulong(session), a, Ulong((ulong)attributes.Length)));
            }

            try
            {
                Check("C_FindObjects", ((delegate* unmanaged<CULong, CULong*, CULong, CULong*, CULong>)Function(CFindObjects))(Ulong(session), found, Ulong(MaxObjects), &count));
            }
            finally
            {
                ((delegate* unmanaged<CULong, CULong>)Function(CFindObjectsFinal))(Ulong(session));
            }

            var result = new ulong[(int)count.Value];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = found[i].Value;
            }

            return result;
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle.Free();
            }
        }
    }

    /// <summary>One attribute's value (C_GetAttributeValue twice: the length, then the bytes).</summary>
    public byte[] Attribute(ulong session, ulong handle, ulong type)
    {
        var getAttributeValue = (delegate* unmanaged<CULong, CULong, CkAttribute*, CULong, CULong>)Function(CGetAttributeValue);
        var attribute = new CkAttribute { Type = Ulong(type) };
        Check("C_GetAttributeValue", getAttributeValue(Ulong(session), Ulong(handle), &attribute, Ulong(1)));
        var value = new byte[(int)attribute.Length.Value];
        fixed (byte* p = value)
        {
            attribute.Value = p;
            Check("C_GetAttributeValue", getAttributeValue(Ulong(session), Ulong(handle), &attribute, Ulong(1)));
        }

        return value.AsSpan(0, (int)attribute.Length.Value).ToArray();
    }

    /// <summary>An attribute that is a CK_ULONG (CKA_KEY_TYPE, CKA_CLASS).</summary>
    public ulong UlongAttribute(ulong session, ulong handle, ulong type)
    {
        var value = Attribute(session, handle, type);
        return value.Length switch
        {
            4 => BitConverter.ToUInt32(value),
            8 => BitConverter.ToUInt64(value),
            _ => throw new Pkcs11CallException("C_GetAttributeValue", 0x13), // CKR_ATTRIBUTE_VALUE_INVALID
        };
    }

    /// <summary>C_SignInit with a mechanism without parameters, then C_Sign (the length, then the signature).</summary>
    public byte[] Sign(ulong session, ulong key, ulong mechanism, ReadOnlySpan<byte> data)
    {
        var m = new CkMechanism { Type = Ulong(mechanism) };
        Check("C_SignInit", ((delegate* unmanaged<CULong, CkMechanism*, CULong, CULong>)Function(CSignInit))(Ulong(session), &m, Ulong(key)));
        var sign = (delegate* unmanaged<CULong, byte*, CULong, byte*, CULong*, CULong>)Function(CSign);
        var signature = new byte[1024];
        CULong length = Ulong((ulong)signature.Length);
        fixed (byte* d = data)
        fixed (byte* s = signature)
        {
            // One call with a buffer large enough for any supported key (RSA-8192: 1,024 bytes) ends the operation.
            Check("C_Sign", sign(Ulong(session), d, Ulong((ulong)data.Length), s, &length));
        }

        return signature.AsSpan(0, (int)length.Value).ToArray();
    }

    /// <summary>The CKR_ name of a return value (the ones a user can act on), else its hex value.</summary>
    public static string Name(ulong rv) => rv switch
    {
        0x0 => "CKR_OK",
        0x3 => "CKR_SLOT_ID_INVALID",
        0x5 => "CKR_GENERAL_ERROR",
        0x6 => "CKR_FUNCTION_FAILED",
        0x7 => "CKR_ARGUMENTS_BAD",
        0x13 => "CKR_ATTRIBUTE_VALUE_INVALID",
        0x30 => "CKR_DEVICE_ERROR",
        0x31 => "CKR_DEVICE_MEMORY",
        0x32 => "CKR_DEVICE_REMOVED",
        0x60 => "CKR_KEY_HANDLE_INVALID",
        0x63 => "CKR_KEY_TYPE_INCONSISTENT",
        0x68 => "CKR_KEY_FUNCTION_NOT_PERMITTED",
        0x70 => "CKR_MECHANISM_INVALID",
        0x71 => "CKR_MECHANISM_PARAM_INVALID",
        0x82 => "CKR_OBJECT_HANDLE_INVALID",
        0xA0 => "CKR_PIN_INCORRECT",
        0xA1 => "CKR_PIN_INVALID",
        0xA2 => "CKR_PIN_LEN_RANGE",
        0xA3 => "CKR_PIN_EXPIRED",
        0xA4 => "CKR_PIN_LOCKED",
        0xB0 => "CKR_SESSION_CLOSED",
        0xB1 => "CKR_SESSION_COUNT",
        0xB3 => "CKR_SESSION_HANDLE_INVALID",
        0xE0 => "CKR_TOKEN_NOT_PRESENT",
        0xE1 => "CKR_TOKEN_NOT_RECOGNIZED",
        0x100 => "CKR_USER_ALREADY_LOGGED_IN",
        0x101 => "CKR_USER_NOT_LOGGED_IN",
        0x102 => "CKR_USER_PIN_NOT_INITIALIZED",
        0x150 => "CKR_BUFFER_TOO_SMALL",
        0x190 => "CKR_CRYPTOKI_NOT_INITIALIZED",
        0x191 => "CKR_CRYPTOKI_ALREADY_INITIALIZED",
        _ => $"CKR 0x{rv:x}",
    };

    /// <summary>A CK_ULONG attribute value (CKA_CLASS) in the platform's size and byte order.</summary>
    public static byte[] UlongBytes(ulong value) =>
        sizeof(CULong) == 4 ? BitConverter.GetBytes((uint)value) : BitConverter.GetBytes(value);

    private static CULong Ulong(ulong value) => new((nuint)value);

    private static void Check(string method, CULong rv)
    {
        if (rv.Value != 0)
        {
            throw new Pkcs11CallException(method, rv.Value);
        }
    }

    private void* Function(int index) => _functions[index];

    // Cryptoki structures are packed to 1 byte on Windows (pkcs11.h); elsewhere CK_ULONG and pointers have one size, so
    // packing to 1 gives the natural layout too.
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct CkAttribute
    {
        public CULong Type;
        public void* Value;
        public CULong Length;
    }

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct CkMechanism
    {
        public CULong Type;
        public void* Parameter;
        public CULong ParameterLength;
    }
}
