namespace TransparencyLog.Interop.Tests.Infrastructure;

/// <summary>
/// Most interop test classes share one running system (starting it takes seconds, not milliseconds); the classes of one
/// collection run one after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<LocalSystem>
{
    public const string Name = "local system";
}

/// <summary>
/// The image tests (skopeo, the OCI registry, policy checks) share a second system, so that they run beside the other
/// interop tests instead of after them. A test class never relies on what another class did to its system, so which
/// of the two a class uses changes nothing it asserts.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ImageSystemCollection : ICollectionFixture<LocalSystem>
{
    public const string Name = "local system for images";
}
