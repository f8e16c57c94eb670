namespace TransparencyLog.Interop.Tests.Infrastructure;

/// <summary>Every interop test class shares one running system (starting it takes seconds, not milliseconds).</summary>
[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<LocalSystem>
{
    public const string Name = "local system";
}
