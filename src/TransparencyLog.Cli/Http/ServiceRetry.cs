using System.Globalization;
using System.Net;
using Polly;
using Polly.Retry;

namespace TransparencyLog.Cli.Http;

/// <summary>
/// How long tlog keeps asking the CA, the log or the TSA when they answer 503 or 429 with <c>Retry-After</c>.
/// Bounded three ways: a number of tries, a wait per retry (the header is honoured up to it) and a total of waits.
/// </summary>
/// <param name="MaxAttempts">Tries in all, the first included.</param>
/// <param name="MaxWait">The longest single wait; a longer <c>Retry-After</c> is shortened to it.</param>
/// <param name="Budget">The most all waits of one request may add up to; a retry that would exceed it is not made.</param>
/// <param name="AttemptTimeout">How long one try may take until the response headers arrive.</param>
internal sealed record ServiceRetryOptions(int MaxAttempts, TimeSpan MaxWait, TimeSpan Budget, TimeSpan AttemptTimeout)
{
    /// <summary>
    /// The log asks for 1 s (its sequencer queue is full), the CA and a database outage for 5 s: five tries within
    /// 30 s of waiting ride out either, and a service that stays down fails the command in well under two minutes.
    /// </summary>
    public static ServiceRetryOptions Default { get; } = new(5, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

    /// <summary>An upper bound on one request with all its tries and waits: the HTTP client's overall timeout.</summary>
    public TimeSpan Total => (AttemptTimeout * MaxAttempts) + Budget;
}

/// <summary>
/// The HTTP handler under every tlog request. Each try gets <see cref="ServiceRetryOptions.AttemptTimeout"/>; requests
/// that <see cref="ServiceCall"/> marked as safe to repeat (every request to the CA, the log and the TSA: reads,
/// certificate requests, timestamps, and log uploads, whose duplicate the log answers 409 with the existing entry) are
/// tried again when the answer is 503 or 429 with <c>Retry-After</c>, with one line on stderr per retry. Registry
/// requests are not marked: the registry client has its own retry.
/// </summary>
internal sealed class ServiceRetryHandler : DelegatingHandler
{
    private static readonly HttpRequestOptionsKey<string> s_service = new("tlog.retry.service");
    private static readonly HttpRequestOptionsKey<RetryRecord> s_record = new("tlog.retry.record");

    private readonly ServiceRetryOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<string> _notify;
    private ServiceRetryPipeline? _pipeline;

    public ServiceRetryHandler(ServiceRetryOptions options, TimeProvider time, Action<string> notify)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        _options = options;
        _time = time;
        _notify = notify;
    }

    /// <summary>
    /// Built on the first repeatable request, not with the handler: commands that only talk to a registry (<c>tlog
    /// verify</c>) never pay for a resilience pipeline (its options validation and telemetry are start-up time), nor
    /// load Polly at all: no Polly type appears in this class's fields or in the path of a request not marked.
    /// </summary>
    private ServiceRetryPipeline Pipeline => LazyInitializer.EnsureInitialized(ref _pipeline, () => new ServiceRetryPipeline(this));

    /// <summary>A client over the real network, with this handler, whose overall timeout covers every try and wait.</summary>
    public static HttpClient CreateClient(ServiceRetryOptions options, TimeProvider time, Action<string> notify) =>
        new(new ServiceRetryHandler(options, time, notify) { InnerHandler = new SocketsHttpHandler() }) { Timeout = options.Total };

    /// <summary>Marks a request as safe to send again; <paramref name="service"/> names it in the retry messages.</summary>
    public static void MarkRepeatable(HttpRequestMessage request, string service) => request.Options.Set(s_service, service);

    /// <summary>How often the request was sent and how long was waited in between (1 try, no wait: never retried).</summary>
    public static (int Attempts, TimeSpan Waited) Tries(HttpRequestMessage request) =>
        request.Options.TryGetValue(s_record, out var record) ? (record.Attempts, record.Waited) : (1, TimeSpan.Zero);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(s_service, out var service))
        {
            return SendOnceAsync(request, cancellationToken);
        }

        var record = new RetryRecord(request, service);
        request.Options.Set(s_record, record);
        return Pipeline.SendAsync(record, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        return await base.SendAsync(request, linked.Token);
    }

    /// <summary>
    /// The wait before the next try, or null when there is none to make: not a 503/429, no <c>Retry-After</c>, or the
    /// waits so far plus this one would pass the budget.
    /// </summary>
    private TimeSpan? NextWait(HttpResponseMessage? response, RetryRecord record)
    {
        if (response is null
            || response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
            || RetryAfter(response) is not { } asked)
        {
            return null;
        }

        var wait = asked < TimeSpan.Zero ? TimeSpan.Zero : asked > _options.MaxWait ? _options.MaxWait : asked;
        return record.Waited + wait <= _options.Budget ? wait : null;
    }

    /// <summary><c>Retry-After</c> as seconds or as an HTTP date (then relative to now); null when absent.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _time.GetUtcNow(),
        _ => null,
    };

    private void Announce(HttpResponseMessage? response, RetryRecord record, TimeSpan wait, int nextAttempt)
    {
        record.Attempts = nextAttempt;
        record.Waited += wait;
        var status = response is null ? "an error" : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        _notify(string.Create(
            CultureInfo.InvariantCulture,
            $"{record.Service} at {record.Request.RequestUri} answered {status}; retrying in {wait.TotalSeconds:0.#} s (try {nextAttempt} of {_options.MaxAttempts})"));
    }

    /// <summary>What the retries of one request came to, read by <see cref="ServiceCall"/> for its final message.</summary>
    private sealed class RetryRecord(HttpRequestMessage request, string service)
    {
        public HttpRequestMessage Request { get; } = request;

        public string Service { get; } = service;

        public int Attempts { get; set; } = 1;

        public TimeSpan Waited { get; set; }
    }

    /// <summary>The Polly retry pipeline of one handler: the only place Polly's types are named.</summary>
    private sealed class ServiceRetryPipeline
    {
        private static readonly ResiliencePropertyKey<RetryRecord> s_state = new("tlog.retry.state");

        private readonly ServiceRetryHandler _handler;
        private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

        public ServiceRetryPipeline(ServiceRetryHandler handler)
        {
            _handler = handler;
            var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = handler._time };
            if (handler._options.MaxAttempts > 1)
            {
                builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                {
                    MaxRetryAttempts = handler._options.MaxAttempts - 1,
                    UseJitter = false,
                    ShouldHandle = args => ValueTask.FromResult(Wait(args.Outcome.Result, args.Context) is not null),
                    DelayGenerator = args => ValueTask.FromResult(Wait(args.Outcome.Result, args.Context)),
                    OnRetry = args =>
                    {
                        if (args.Context.Properties.TryGetValue(s_state, out var record))
                        {
                            _handler.Announce(args.Outcome.Result, record, args.RetryDelay, args.AttemptNumber + 2);
                        }

                        return ValueTask.CompletedTask;
                    },
                });
            }

            _pipeline = builder.Build();
        }

        public async Task<HttpResponseMessage> SendAsync(RetryRecord record, CancellationToken cancellationToken)
        {
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            context.Properties.Set(s_state, record);
            try
            {
                return await _pipeline.ExecuteAsync(
                    static async (context, state) => await state.Handler.SendOnceAsync(state.Request, context.CancellationToken),
                    context,
                    (Handler: _handler, record.Request));
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        private TimeSpan? Wait(HttpResponseMessage? response, ResilienceContext context) =>
            context.Properties.TryGetValue(s_state, out var record) ? _handler.NextWait(response, record) : null;
    }
}
