using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Policy.Matching;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary>policy-controller's glob semantics (admission-policy §3.2) and CEL conditions over attestations.</summary>
public sealed class ImageGlobTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("ghcr.io/org/app*", "ghcr.io/org/app:1.0", true)]
    [InlineData("ghcr.io/org/app*", "ghcr.io/org/app@" + Digest, true)]
    [InlineData("ghcr.io/org/app", "ghcr.io/org/app@" + Digest, false)]
    [InlineData("ghcr.io/org/app:1.0", "ghcr.io/org/app:1.0", true)]
    [InlineData("ghcr.io/org/*", "ghcr.io/org/team/app:1", false)]
    [InlineData("ghcr.io/org/**", "ghcr.io/org/team/app:1", true)]
    [InlineData("*", "nginx:1.25", true)]
    [InlineData("*", "org/app:1", false)]
    [InlineData("*/*", "org/app:1", true)]
    [InlineData("docker.io/library/nginx*", "nginx", true)]
    [InlineData("index.docker.io/library/nginx*", "docker.io/nginx", true)]
    [InlineData("127.0.0.1:5100/demo/**", "127.0.0.1:5100/demo/hello:1.0", true)]
    [InlineData("127.0.0.1:5100/demo/**", "127.0.0.1:5101/demo/hello:1.0", false)]
    public void Matches_ImageReference_AsPolicyControllerDoes(string glob, string image, bool expected)
    {
        Assert.Equal(expected, ImageGlob.Parse(glob).Matches(ImageReference.Parse(image)));
    }

    [Fact]
    public void Matches_GlobThatWouldBacktrackExponentially_AnswersWithoutTimeout()
    {
        // 150 "**a" then "**b": a backtracking matcher tries every split of the name over the 150 wildcards.
        var glob = ImageGlob.Parse(string.Concat(Enumerable.Repeat("**a", 150)) + "**b");
        var image = ImageReference.Parse($"registry.example/{new string('a', 150)}/{new string('a', 80)}@{Digest}");

        Assert.False(glob.Matches(image));
        Assert.True(ImageGlob.Parse(string.Concat(Enumerable.Repeat("**a", 150)) + "**").Matches(image));
    }

    [Theory]
    [InlineData("nginx", "docker.io/library/nginx:latest")]
    [InlineData("org/app:1", "docker.io/org/app:1")]
    [InlineData("index.docker.io/library/busybox@" + Digest, "docker.io/library/busybox@" + Digest)]
    [InlineData("reg:5000/a/b:2@" + Digest, "reg:5000/a/b:2@" + Digest)]
    [InlineData("localhost/a", "localhost/a:latest")]
    public void Normalized_Reference_DistributionForm(string image, string expected)
    {
        Assert.Equal(expected, ImageNames.Normalized(ImageReference.Parse(image)));
    }

    [Theory]
    [InlineData("predicate.builder.id == 'https://ci.example'", true, null)]
    [InlineData("predicate.builder.id.startsWith('https://other')", false, "is false")]
    [InlineData("predicate.materials.size() == 2 && predicate.materials.exists(m, m.uri == 'git+https://x')", true, null)]
    [InlineData("predicate.nothing == 1", false, "failed")]
    [InlineData("predicateType == 'https://slsa.dev/provenance/v1'", true, null)]
    [InlineData("predicate.builder", false, "not a boolean")]
    public void Evaluate_CelCondition_OverPredicate(string expression, bool satisfied, string? reason)
    {
        var statement = System.Text.Json.Nodes.JsonNode.Parse("""
            {"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"digest":{"sha256":"ab"}}],
             "predicate":{"builder":{"id":"https://ci.example"},"materials":[{"uri":"git+https://x"},{"uri":"y"}]}}
            """)!.AsObject();

        var (ok, why) = CelCondition.Compile(expression).Evaluate(statement);

        Assert.Equal(satisfied, ok);
        if (reason is null)
        {
            Assert.Null(why);
        }
        else
        {
            Assert.Contains(reason, why, StringComparison.Ordinal);
        }
    }
}
