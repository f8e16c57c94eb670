using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// The admission host's own Program in process, with one ClusterImagePolicy that passes every image: for tests of
/// the host's handling of requests (shapes, routes, operational endpoints) rather than of verification.
/// </summary>
internal sealed class PassAllWebhookHost : IAsyncDisposable
{
    private const string PassPolicy =
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: pass}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n";

    private readonly string _policies;

    private PassAllWebhookHost(string policies, WebApplicationFactory<Program> factory)
    {
        _policies = policies;
        Factory = factory;
        Client = factory.CreateClient();
    }

    public WebApplicationFactory<Program> Factory { get; }

    public HttpClient Client { get; }

    /// <param name="settings">Further host settings (name, value), applied after the policy directory's.</param>
    public static PassAllWebhookHost Start(params (string Name, string Value)[] settings)
    {
        var policies = Directory.CreateTempSubdirectory("tlog-admission-host-").FullName;
        File.WriteAllText(Path.Combine(policies, "pass.yaml"), PassPolicy);
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Production")
                .UseSetting("Admission:PoliciesDirectory", policies)
                // The test server replaces Kestrel, so the serving certificate is never read.
                .UseSetting("Admission:CertificatePath", Path.Combine(policies, "unused.pem"))
                .UseSetting("Admission:KeyPath", Path.Combine(policies, "unused.key"));
            foreach (var (name, value) in settings)
            {
                web.UseSetting(name, value);
            }
        });
        return new PassAllWebhookHost(policies, factory);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        Directory.Delete(_policies, recursive: true);
    }
}
