using System.Xml.Linq;
using Net.Pkcs11Interop.Common;
using TransparencyLog.Testing;

namespace TransparencyLog.Cli.Tests.Keys;

/// <summary>
/// The Native AOT tlog can only call a PKCS#11 module through Pkcs11Interop for the types Pkcs11Interop.rd.xml names:
/// a type missing there fails at the first call in the token, not at build time. This compares the file with the
/// referenced Pkcs11Interop, so an update of the package that adds or renames an interop type fails here.
/// </summary>
public sealed class Pkcs11AotDirectivesTests
{
    private const string LowLevelNamespace = "Net.Pkcs11Interop.LowLevelAPI80";

    private static readonly XNamespace s_directives = "http://schemas.microsoft.com/netfx/2013/01/metadata";

    [Fact]
    public void Directives_NameEveryStructureAndDelegateOfTheLowLevelApi()
    {
        var assembly = typeof(CKA).Assembly;
        var needed = assembly.GetTypes()
            .Where(static t => t.Namespace is { } ns && (ns == LowLevelNamespace || ns.StartsWith(LowLevelNamespace + ".", StringComparison.Ordinal)))
            .Select(static t => typeof(Delegate).IsAssignableFrom(t) ? ("MarshalDelegate", t.FullName!)
                : (t.IsValueType && !t.IsEnum) || (t.IsClass && t.IsLayoutSequential && !t.IsAbstract) ? ("MarshalStructure", t.FullName!)
                : default)
            .Where(static entry => entry != default)
            .ToHashSet();

        var file = XDocument.Load(Path.Combine(RepositoryPaths.Root, "src", "TransparencyLog.Cli", "Pkcs11Interop.rd.xml"));
        var listed = file.Descendants(s_directives + "Assembly")
            .Where(static a => (string?)a.Attribute("Name") == "Pkcs11Interop")
            .Descendants(s_directives + "Type")
            .Select(static t => (t.Attribute("MarshalDelegate") is null ? "MarshalStructure" : "MarshalDelegate", (string)t.Attribute("Name")!))
            .ToHashSet();

        // The function list itself and one delegate per function: if these vanished the comparison would be vacuous.
        Assert.Contains(("MarshalStructure", LowLevelNamespace + ".CK_FUNCTION_LIST"), needed);
        Assert.True(needed.Count(static e => e.Item1 == "MarshalDelegate") > 60, "Pkcs11Interop's low-level delegates were not found");
        Assert.Empty(needed.Except(listed).Select(static e => $"{e.Item1} {e.Item2}"));
        Assert.Empty(listed.Except(needed).Select(static e => $"{e.Item1} {e.Item2}"));
    }
}
