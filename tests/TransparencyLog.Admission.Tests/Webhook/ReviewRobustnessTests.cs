using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>Pinning for every pod-bearing kind, a body too large sent at once, and a registry that dies during a review.</summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Mutate_EveryWorkloadKind_TagPinnedAtItsPodSpecPointer()
    {
        var digest = await _lab.PushImageAsync("mutate-kinds/app:3.1");
        var tagged = $"{_lab.Registry}/mutate-kinds/app:3.1";

        foreach (var (kind, group, podSpec) in Kinds)
        {
            var answer = await PostAsync("/mutate", Review(kind, group, PodSpec(containers: [tagged], ephemeral: [tagged])));

            var response = answer["response"]!;
            Assert.True(response["allowed"]!.GetValue<bool>(), $"{kind}: {answer}");
            var patch = JsonNode.Parse(Convert.FromBase64String(response["patch"]!.GetValue<string>()))!.AsArray();
            Assert.Equal([$"{podSpec}/containers/0/image", $"{podSpec}/ephemeralContainers/0/image"], patch.Select(static op => op!["path"]!.GetValue<string>()));
            Assert.All(patch, op => Assert.Equal($"{tagged}@{digest}", op!["value"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Post_HugeReviewWithoutExpectContinue_413AndServiceStaysUp()
    {
        var huge = Review("Pod", "", PodSpec(containers: [Unreachable]));
        huge["request"]!["object"]!["metadata"]!["annotations"] = new JsonObject { ["padding"] = new string('x', 6 * 1024 * 1024) };
        var body = Encoding.UTF8.GetBytes(huge.ToJsonString());

        // Sent whole, without waiting for 100-continue, as a client that never asks would.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/validate") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.ExpectContinue = false;
        using var tooLarge = await _http.SendAsync(request);
        var problem = await tooLarge.Content.ReadAsStringAsync();
        var after = await ValidateAsync(Review("Pod", "", PodSpec(containers: [Unreachable])));
        using var health = await _http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("larger than", problem, StringComparison.Ordinal);
        Assert.False(after["response"]!["allowed"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Validate_RegistryStoppedMidReview_DeniedWithReasonThenAdmittedOnceBack()
    {
        await using var registry = await TrippableRegistry.StartAsync(Path.Combine(_tlog.Directory, "outage-registry"));
        var source = await _lab.PushImageAsync("outage/app:1.0");
        var copy = await _lab.SkopeoAsync(
            "--policy", _lab.PathOf("accept.json"), "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            $"docker://{_lab.Registry}/outage/app:1.0", $"docker://{registry.Address}/outage/app:1.0");
        Assert.True(copy.ExitCode == 0, copy.Output);
        var reference = $"{registry.Address}/outage/app@{source}";
        var token = await _system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync("sign", reference, "--identity-token", token, "--fulcio-url", _system["FULCIO_URL"], "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"]);
        await AddPolicyAsync("outage", KeylessPolicy("outage", $"{registry.Address}/outage/**"));

        // The registry answers the webhook's first request, then its process is killed before the second.
        registry.KillAfterFirstAnswer();
        var during = await ValidateAsync(Review("Pod", "", PodSpec(containers: [reference])));
        Assert.True(registry.Killed, "the review never reached the registry");
        await registry.RestartAsync();
        var after = await ValidateAsync(Review("Pod", "", PodSpec(containers: [reference])));

        var denial = Denial(during);
        Assert.Contains("/spec/containers/0/image", denial, StringComparison.Ordinal);
        Assert.Contains($"the registry {registry.Address} is unreachable", denial, StringComparison.Ordinal);
        Assert.True(after["response"]!["allowed"]!.GetValue<bool>(), $"a transient failure was cached: {after}");
    }

    /// <summary>
    /// The system's docker-registry package on its own port, behind a loopback relay that can kill the registry
    /// process right after relaying its first answer: the registry goes away in the middle of a review.
    /// </summary>
    private sealed class TrippableRegistry : IAsyncDisposable
    {
        private readonly string _directory;
        private readonly int _registryPort;
        private readonly TcpListener _relay;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _connections = [];
        private Process? _process;
        private volatile bool _armed;

        private TrippableRegistry(string directory, int registryPort)
        {
            _directory = directory;
            _registryPort = registryPort;
            _relay = new TcpListener(IPAddress.Loopback, 0);
            _relay.Start();
            _ = AcceptAsync();
        }

        public string Address => $"127.0.0.1:{((IPEndPoint)_relay.LocalEndpoint).Port}";

        public bool Killed { get; private set; }

        public static async Task<TrippableRegistry> StartAsync(string directory)
        {
            Directory.CreateDirectory(Path.Combine(directory, "storage"));
            int port;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            await File.WriteAllTextAsync(Path.Combine(directory, "config.yml"), $"version: 0.1\nlog: {{level: warn, accesslog: {{disabled: true}}}}\nstorage:\n  filesystem: {{rootdirectory: \"{directory}/storage\"}}\nhttp:\n  addr: 127.0.0.1:{port}\n");
            var registry = new TrippableRegistry(directory, port);
            await registry.RestartAsync();
            return registry;
        }

        public void KillAfterFirstAnswer() => _armed = true;

        public async Task RestartAsync()
        {
            _armed = false;
            _process = Process.Start(new ProcessStartInfo("docker-registry", ["serve", Path.Combine(_directory, "config.yml")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidOperationException("docker-registry did not start");
            _process.OutputDataReceived += static (_, _) => { };
            _process.ErrorDataReceived += static (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            using var http = new HttpClient();
            for (var i = 0; i < 100; i++)
            {
                try
                {
                    using var response = await http.GetAsync($"http://127.0.0.1:{_registryPort}/v2/");
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(100);
            }

            throw new InvalidOperationException("docker-registry did not become ready");
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _relay.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = RelayAsync(client);
            }
        }

        private async Task RelayAsync(TcpClient client)
        {
            using var upstream = new TcpClient();
            lock (_connections)
            {
                _connections.Add(client);
                _connections.Add(upstream);
            }

            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _registryPort, _stop.Token);
                var toRegistry = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
                var toClient = AnswerAsync(upstream.GetStream(), client.GetStream());
                await Task.WhenAny(toRegistry, toClient);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                client.Dispose();
            }
        }

        /// <summary>Relays the registry's answers; once armed, kills the registry after the first one and drops every connection.</summary>
        private async Task AnswerAsync(NetworkStream registry, NetworkStream client)
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await registry.ReadAsync(buffer, _stop.Token)) > 0)
            {
                await client.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                if (_armed)
                {
                    _armed = false;
                    Kill();
                    return;
                }
            }
        }

        private void Kill()
        {
            _process?.Kill(entireProcessTree: true);
            _process?.WaitForExit();
            Killed = true;
            lock (_connections)
            {
                foreach (var connection in _connections)
                {
                    connection.Dispose();
                }

                _connections.Clear();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _relay.Stop();
            Kill();
            _process?.Dispose();
            _stop.Dispose();
        }
    }
}
