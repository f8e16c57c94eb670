using System.Net;
using System.Net.Sockets;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// Fail closed within the internal deadline (Admission:DeadlineSeconds, below the webhook's timeoutSeconds): a
/// registry that accepts connections and never answers still gets the review an answer, a denial in enforce mode
/// and an admission with a warning in warn mode, never an API-server timeout.
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Validate_RegistryThatNeverAnswers_DeniedAtTheDeadlineInEnforceWarnedInWarn()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new System.Collections.Concurrent.ConcurrentBag<TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await silent.AcceptTcpClientAsync(stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var registry = $"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        var image = $"{registry}/hang/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        try
        {
            await AddPolicyAsync("hang-enforce", KeylessPolicy("hang-enforce", $"{registry}/hang/**"));
            var enforced = await ValidateAsync(Review("Pod", "", PodSpec(containers: [image])));
            await RemovePolicyAsync("hang-enforce");
            await AddPolicyAsync("hang-warn", KeylessPolicy("hang-warn", $"{registry}/hang/**", mode: "warn"));
            var warned = await ValidateAsync(Review("Pod", "", PodSpec(containers: [image])));

            Assert.Contains("DEADLINE_EXCEEDED", Denial(enforced), StringComparison.Ordinal);
            Assert.NotEmpty(held);
            Assert.True(warned["response"]!["allowed"]!.GetValue<bool>(), warned.ToJsonString());
            Assert.Contains("DEADLINE_EXCEEDED", warned["response"]!["warnings"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            await accepting;
            foreach (var client in held)
            {
                client.Dispose();
            }
        }
    }
}
