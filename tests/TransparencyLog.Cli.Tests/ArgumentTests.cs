using System.Text.Json;

namespace TransparencyLog.Cli.Tests;

public sealed class ArgumentTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    public static TheoryData<string[]> UsageErrors => new()
    {
        Array.Empty<string>(),
        new[] { "bogus" },
        new[] { "sign-blob" },
        new[] { "sign-blob", "{dir}/missing.txt", "--rekor-url", "http://127.0.0.1:1", "--key", "{file}" },
        new[] { "sign-blob", "{file}" },
        new[] { "sign-blob", "{file}", "--rekor-url", "http://127.0.0.1:1" },
        new[] { "sign-blob", "{file}", "--rekor-url", "http://127.0.0.1:1", "--fulcio-url", "http://127.0.0.1:1" },
        new[] { "sign-blob", "{file}", "--rekor-url", "http://127.0.0.1:1", "--key", "{file}", "--identity-token", "a.b.c" },
        new[] { "sign-blob", "{file}", "--rekor-url", "http://127.0.0.1:1", "--fulcio-url", "http://127.0.0.1:1", "--identity-token", "not-a-jwt" },
        new[] { "sign-blob", "{file}", "--output", "xml" },
        new[] { "attest", "{file}", "--type", "https://example.test/t" },
        new[] { "attest", "{file}", "--predicate", "{file}" },
        new[] { "attest", "{file}", "--predicate", "{file}", "--type", "t", "--rekor-url", "http://127.0.0.1:1", "--key", "{file}" },
        new[] { "verify-blob", "{file}", "--trusted-root", "{file}" },
        new[] { "verify-blob", "{file}", "--trusted-root", "{file}", "--certificate-identity", "a@b" },
        new[] { "verify-blob", "{file}", "--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://i" },
        new[] { "verify-blob", "{file}", "--trusted-root", "{file}", "--certificate-identity", "a", "--certificate-identity-regexp", "a", "--certificate-oidc-issuer", "i" },
        new[] { "verify-blob", "{file}", "--trusted-root", "{file}", "--certificate-identity-regexp", "(", "--certificate-oidc-issuer", "i" },
        new[] { "verify-blob", "{file}", "--trusted-root", "{file}", "--key", "{file}", "--certificate-identity", "a" },
        new[] { "verify-blob", "{dir}/missing.txt", "--trusted-root", "{file}", "--certificate-identity", "a", "--certificate-oidc-issuer", "i" },
        new[] { "verify-attestation", "{file}", "--trusted-root", "{file}" },
        new[] { "log" },
        new[] { "log", "info" },
        new[] { "log", "get", "--rekor-url", "http://127.0.0.1:1" },
        new[] { "log", "get", "--rekor-url", "http://127.0.0.1:1", "--index", "1", "--uuid", "ab" },
        new[] { "log", "get", "--rekor-url", "http://127.0.0.1:1", "--index", "-1" },
        new[] { "log", "get", "--rekor-url", "http://127.0.0.1:1", "--index", "x" },
        new[] { "log", "verify-consistency", "--rekor-url", "http://127.0.0.1:1" },
        new[] { "log", "verify-consistency", "--rekor-url", "http://127.0.0.1:1", "--vkey", "not-a-vkey" },
        new[] { "trusted-root", "create", "--out", "{dir}/root.json" },
        new[] { "trusted-root", "create", "--ca-url", "http://127.0.0.1:1", "--out", "{dir}/root.json" },
        new[] { "trusted-root", "show", "{dir}/missing.json" },
        new[] { "dev", "token" },
        new[] { "dev", "token", "--issuer", "http://127.0.0.1:1" },
        new[] { "dev", "token", "--issuer", "http://127.0.0.1:1", "--email", "a@b", "--ttl", "0" },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task Run_InvalidArguments_ExitsWithUsageCodeAndReason(string[] args)
    {
        var file = _cli.WriteFile("input.txt", "data");
        var expanded = args.Select(a => a.Replace("{file}", file, StringComparison.Ordinal).Replace("{dir}", _cli.Directory, StringComparison.Ordinal)).ToArray();

        var (exitCode, _, err) = await _cli.RunAsync(expanded);

        Assert.Equal(2, exitCode);
        Assert.Contains("Error:", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("sign-blob", "--help")]
    [InlineData("verify-blob", "--help")]
    [InlineData("log", "verify-consistency", "--help")]
    [InlineData("trusted-root", "create", "--help")]
    public async Task Run_Help_ExitsZeroAndPrintsUsage(params string[] args)
    {
        var (exitCode, output, _) = await _cli.RunAsync(args);

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildRootCommand_EachCommandByName_BuildsThatCommandAloneAndAllWithoutAName()
    {
        var host = new TransparencyLog.Cli.Hosting.CliHost(TextWriter.Null, TextWriter.Null, new TransparencyLog.Cli.Hosting.TlogContext(
            _cli.Http, static _ => null, _cli.Directory, TimeProvider.System));

        foreach (var (name, _) in TransparencyLog.Cli.Hosting.TlogApp.Commands)
        {
            // The table's name is the command's own: otherwise `tlog NAME` would parse against a tree without NAME.
            var only = TransparencyLog.Cli.Hosting.TlogApp.BuildRootCommand(host, [name, "x"]);
            Assert.Equal(name, Assert.Single(only.Subcommands).Name);
        }

        var all = TransparencyLog.Cli.Hosting.TlogApp.BuildRootCommand(host, ["bogus"]);
        var withHelp = TransparencyLog.Cli.Hosting.TlogApp.BuildRootCommand(host, ["verify", "--help"]);
        Assert.Equal(TransparencyLog.Cli.Hosting.TlogApp.Commands.Select(static c => c.Name), all.Subcommands.Select(static c => c.Name));
        Assert.Equal(all.Subcommands.Count, withHelp.Subcommands.Count);
    }

    [Fact]
    public async Task Run_Version_PrintsTheVersionWithoutCommands()
    {
        var (exitCode, output, _) = await _cli.RunAsync("--version");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^\d+\.\d+", output.Trim());
    }

    [Fact]
    public async Task Run_UnreachableService_ExitsWithErrorCode()
    {
        var (exitCode, _, err) = await _cli.RunAsync("log", "info", "--rekor-url", "http://127.0.0.1:1");

        Assert.Equal(1, exitCode);
        Assert.Contains("unreachable", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBlob_MalformedBundle_ExitsThreeWithBundleErrorAsJson()
    {
        var file = _cli.WriteFile("artifact.txt", "data");
        _cli.WriteFile("artifact.txt.sigstore.json", "{\"mediaType\":\"nope\"}");
        var root = _cli.WriteFile("root.json", "{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\"}");

        var (exitCode, output, _) = await _cli.RunAsync(
            "verify-blob", file, "--trusted-root", root, "--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://i", "--output", "json");

        Assert.Equal(3, exitCode);
        using var json = JsonDocument.Parse(output);
        Assert.False(json.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("BUNDLE_ERROR", json.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task VerifyBlob_InvalidTrustedRoot_ExitsWithErrorCode()
    {
        var file = _cli.WriteFile("artifact.txt", "data");
        var root = _cli.WriteFile("root.json", "not json");

        var (exitCode, _, err) = await _cli.RunAsync(
            "verify-blob", file, "--bundle", file, "--trusted-root", root, "--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://i");

        Assert.Equal(1, exitCode);
        Assert.Contains("trusted root", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignBlob_TokenFromEnvironment_IsUsedBeforeNetwork()
    {
        var file = _cli.WriteFile("artifact.txt", "data");
        _cli.Environment["REKOR_URL"] = "http://127.0.0.1:1";
        _cli.Environment["FULCIO_URL"] = "http://127.0.0.1:1";
        _cli.Environment["SIGSTORE_ID_TOKEN"] = "e30.eyJlbWFpbCI6ImFAYi5jIn0.sig";

        var (exitCode, _, err) = await _cli.RunAsync("sign-blob", file);

        // Flags resolved from the environment, the token decoded: the first failure is the unreachable CA.
        Assert.Equal(1, exitCode);
        Assert.Contains("certificate authority", err, StringComparison.Ordinal);
    }
}
