using TransparencyLog.CaService.Identity;

namespace TransparencyLog.CaService.Tests.Identity;

public sealed class IssuerPoolTests
{
    private const string Eks = "https://oidc.eks.*.amazonaws.com/id/*";

    [Theory]
    [InlineData("https://oidc.eks.us-west-2.amazonaws.com/id/ABC_123-x", true)]
    [InlineData("https://oidc.eks.us-west-2.amazonaws.com/id/", false)]
    [InlineData("https://oidc.eks.a.b.amazonaws.com/id/x", false)]
    [InlineData("https://oidc.eks.x.amazonaws.com/id/x/y", false)]
    [InlineData("https://oidc.eks.x.amazonaws.com/id/x?y", false)]
    [InlineData("https://oidc.eks.x.amazonaws.com/id/x#y", false)]
    [InlineData("https://oidc.eks.x@evil.example/.amazonaws.com/id/x", false)]
    [InlineData("https://oidc.eks.x.amazonaws.com/id/x\n", false)]
    [InlineData("http://evil.example/?https://oidc.eks.x.amazonaws.com/id/y", false)]
    [InlineData("https://oidc.eks.x.amazonaws.com/id/y.evil.example", false)]
    public void CompileWildcard_EksPattern_MatchesOnlyWholeSingleSegments(string iss, bool matches)
    {
        Assert.Equal(matches, IssuerPool.CompileWildcard(Eks).IsMatch(iss));
    }

    [Fact]
    public void CompileWildcard_RegexMetacharactersInPattern_AreLiteral()
    {
        var pattern = IssuerPool.CompileWildcard("https://a.example/(x)+/*");
        Assert.Matches(pattern, "https://a.example/(x)+/y");
        Assert.DoesNotMatch(pattern, "https://aXexample/xx/y");
    }

    [Fact]
    public void Load_ExactBeforeWildcard_ExactWins()
    {
        var options = new IdentityOptions
        {
            Issuers =
            {
                new IssuerOptions { WildcardIssuerUrl = "https://*.example.com", Type = "email" },
                new IssuerOptions { IssuerUrl = "https://a.example.com", Type = "kubernetes" },
            },
        };

        var pool = new IssuerPool(Microsoft.Extensions.Options.Options.Create(options));

        Assert.Equal(IssuerType.Kubernetes, pool.Match("https://a.example.com")?.Type);
        Assert.Equal(IssuerType.Email, pool.Match("https://b.example.com")?.Type);
        Assert.Null(pool.Match("https://b.example.org"));
    }

    [Theory]
    [InlineData("http://accounts.example.com", "email", null, null, "plain http")]
    [InlineData("https://a.example.com", "gmail", null, null, "is not one of")]
    [InlineData("https://a.example.com", "email", "HS256", null, "algorithm 'HS256' is not accepted")]
    [InlineData("https://a.example.com", "email", "none", null, "algorithm 'none' is not accepted")]
    [InlineData("https://a.example.com", "spiffe", null, null, "SpiffeTrustDomain")]
    [InlineData("https://a.example.com", "uri", null, "example.com", "SubjectDomain with a scheme")]
    [InlineData("https://a.example.com", "uri", null, "https://other.org", "not in the issuer's domain")]
    [InlineData("https://a.example.com", "username", null, "https://example.com", "without a scheme")]
    [InlineData("https://a.example.com?x=1", "email", null, null, "without query")]
    [InlineData("https://a.example.com", "ci-provider", null, null, "SubjectAlternativeNameTemplate")]
    public void Load_InvalidIssuer_ReportsAClearError(string url, string type, string? algorithm, string? subjectDomain, string expected)
    {
        var issuer = new IssuerOptions { IssuerUrl = url, Type = type, SubjectDomain = subjectDomain };
        if (algorithm is not null)
        {
            issuer.AllowedAlgorithms.Add(algorithm);
        }

        var (_, errors) = IssuerPool.Load(new IdentityOptions { Issuers = { issuer } });

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_IssuersFile_AddsItsIssuers()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """{ "issuers": [ { "issuerUrl": "https://token.actions.githubusercontent.com", "type": "github-workflow" } ] }""");

            var (issuers, errors) = IssuerPool.Load(new IdentityOptions { IssuersFile = path });

            Assert.Empty(errors);
            Assert.Equal(IssuerType.GithubWorkflow, Assert.Single(issuers).Type);
            Assert.Equal("sigstore", issuers[0].Options.Audience);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_IssuersDirectory_ReadsEveryVisibleJsonFileWithItsRelativeJwks()
    {
        var directory = Directory.CreateTempSubdirectory("tlog-issuers-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "b.json"), """{ "issuers": [ { "issuerUrl": "https://b.example.com", "type": "email", "jwksFile": "b-jwks.json" } ] }""");
            File.WriteAllText(Path.Combine(directory, "b-jwks.json"), """{ "keys": [ { "kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tezsZyGs5yDh-0cxTaXn1Rw2tBCI", "kid": "1" } ] }""");
            File.WriteAllText(Path.Combine(directory, "a.json"), """{ "issuers": [ { "issuerUrl": "https://a.example.com", "type": "kubernetes" } ] }""");
            // Neither a hidden file (an editor's, a ConfigMap's ..data) nor another extension is read.
            File.WriteAllText(Path.Combine(directory, ".a.json.swp"), "{");
            File.WriteAllText(Path.Combine(directory, ".hidden.json"), "{");
            File.WriteAllText(Path.Combine(directory, "notes.txt"), "{");

            var (issuers, errors) = IssuerPool.Load(new IdentityOptions { IssuersDirectory = directory });

            // b-jwks.json is not an issuer file; it has no "issuers" and adds nothing.
            Assert.Empty(errors);
            Assert.Equal(["https://a.example.com", "https://b.example.com"], issuers.Select(i => i.Options.Name));
            Assert.NotNull(issuers[1].StaticKeys);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Load_MalformedFileInIssuersDirectory_NamesTheFile()
    {
        var directory = Directory.CreateTempSubdirectory("tlog-issuers-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "good.json"), """{ "issuers": [ { "issuerUrl": "https://a.example.com", "type": "email" } ] }""");
            File.WriteAllText(Path.Combine(directory, "bad.json"), """{ "issuers": [ { "issuerUrl": "https://b.example.com", "type": "email" }""");

            var (_, errors) = IssuerPool.Load(new IdentityOptions { IssuersDirectory = directory });

            Assert.Contains(errors, e => e.StartsWith($"issuer file '{Path.Combine(directory, "bad.json")}' could not be read", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Load_SameIssuerInTwoFiles_IsAnErrorNamingTheSecondFile()
    {
        var directory = Directory.CreateTempSubdirectory("tlog-issuers-").FullName;
        try
        {
            const string Entry = """{ "issuers": [ { "issuerUrl": "https://a.example.com", "type": "email" } ] }""";
            File.WriteAllText(Path.Combine(directory, "1.json"), Entry);
            File.WriteAllText(Path.Combine(directory, "2.json"), Entry);

            var (_, errors) = IssuerPool.Load(new IdentityOptions { IssuersDirectory = directory });

            Assert.Equal($"issuer file '{Path.Combine(directory, "2.json")}': issuer 'https://a.example.com' is configured twice", Assert.Single(errors));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Load_EmptyIssuersDirectoryAndNoOtherIssuer_IsValidButAMissingDirectoryIsNot()
    {
        var directory = Directory.CreateTempSubdirectory("tlog-issuers-").FullName;
        try
        {
            var (issuers, errors) = IssuerPool.Load(new IdentityOptions { IssuersDirectory = directory });
            Assert.Empty(errors);
            Assert.Empty(issuers);

            (_, errors) = IssuerPool.Load(new IdentityOptions { IssuersDirectory = Path.Combine(directory, "missing") });
            Assert.Contains(errors, e => e.Contains("Identity:IssuersDirectory", StringComparison.Ordinal) && e.Contains("could not be read", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Load_IssuerFileOverTheSizeLimit_IsRefusedUnparsed()
    {
        var directory = Directory.CreateTempSubdirectory("tlog-issuers-").FullName;
        try
        {
            var path = Path.Combine(directory, "huge.json");
            File.WriteAllText(path, "{ \"issuers\": [], \"pad\": \"" + new string('x', IssuerPool.MaxFileBytes) + "\" }");

            var (_, errors) = IssuerPool.Load(new IdentityOptions { IssuersDirectory = directory });

            Assert.Contains($"issuer file '{path}' is larger than {IssuerPool.MaxFileBytes} bytes", errors);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Load_ExampleIssuersFile_IsValid()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "docs", "examples", "issuers.json")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var (issuers, errors) = IssuerPool.Load(new IdentityOptions { IssuersFile = Path.Combine(directory.FullName, "docs", "examples", "issuers.json") });

        Assert.Empty(errors);
        Assert.True(issuers.Count >= 5);
    }
}
