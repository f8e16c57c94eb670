using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Sigstore.Tests.Verification;

public sealed class CertificateIdentityPolicyTests
{
    [Theory]
    [InlineData("alice@example.com\n")]
    [InlineData("alice@example.com.evil")]
    [InlineData("xalice@example.com")]
    public void Check_RegexAgainstNearMissIdentity_Refuses(string identity)
    {
        var policy = CertificateIdentityPolicy.Create(null, @"alice@example\.com", "https://issuer.example", null);
        var error = Assert.Throws<VerificationException>(() => policy.Check(identity, "https://issuer.example"));
        Assert.Equal(VerificationErrorCode.UntrustedSigner, error.Code);
    }

    [Fact]
    public void Check_RegexMatchingWholeIdentity_Accepts()
    {
        var policy = CertificateIdentityPolicy.Create(null, @".*@example\.com", null, @"https://issuer\.example");
        policy.Check("alice@example.com", "https://issuer.example");
    }

    [Fact]
    public void Check_IssuerRegexAgainstTrailingNewline_Refuses()
    {
        var policy = CertificateIdentityPolicy.Create("alice@example.com", null, null, @"https://issuer\.example");
        Assert.Throws<VerificationException>(() => policy.Check("alice@example.com", "https://issuer.example\n"));
    }
}
