using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Evaluation;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary>The webhook's result cache: keyed so a policy or trust-root change misses, bounded in entries and in time.</summary>
public sealed class OutcomeCacheTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static PolicyOutcome Outcome(bool passed, bool transient = false) =>
        new("p", PolicyMode.Enforce, VerificationLevel.Strict, passed, passed ? "ci" : null, null, passed ? [] : ["NO_SIGNATURES"], [], transient);

    [Fact]
    public void Get_PassAndFailure_EachExpiresAfterItsTtl()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch);
        var cache = new OutcomeCache(clock);
        cache.Put("pass", Outcome(passed: true));
        cache.Put("fail", Outcome(passed: false));

        var bothFresh = (cache.Get("pass"), cache.Get("fail"));
        clock.Now += OutcomeCache.FailureTtl;
        var afterFailureTtl = (cache.Get("pass"), cache.Get("fail"));
        clock.Now = DateTimeOffset.UnixEpoch + OutcomeCache.SuccessTtl;
        var afterSuccessTtl = cache.Get("pass");

        Assert.True(bothFresh.Item1!.CacheHit);
        Assert.False(bothFresh.Item2!.Passed);
        Assert.NotNull(afterFailureTtl.Item1);
        Assert.Null(afterFailureTtl.Item2);
        Assert.Null(afterSuccessTtl);
    }

    [Fact]
    public void Put_TransientFailure_NeverStored()
    {
        var cache = new OutcomeCache(new Clock(DateTimeOffset.UnixEpoch));

        cache.Put("down", Outcome(passed: false, transient: true));

        Assert.Null(cache.Get("down"));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Key_OtherPolicyGenerationTrustRootOrCredentials_Misses()
    {
        var cache = new OutcomeCache(new Clock(DateTimeOffset.UnixEpoch));
        cache.Put(OutcomeCache.Key(Digest, "p", "gen1", "roots1", "webhook"), Outcome(passed: true));

        Assert.NotNull(cache.Get(OutcomeCache.Key(Digest, "p", "gen1", "roots1", "webhook")));
        Assert.Null(cache.Get(OutcomeCache.Key(Digest, "p", "gen2", "roots1", "webhook")));
        Assert.Null(cache.Get(OutcomeCache.Key(Digest, "p", "gen1", "roots2", "webhook")));
        Assert.Null(cache.Get(OutcomeCache.Key(Digest, "p", "gen1", "roots1", "/secrets/prod/regcred/.dockerconfigjson")));
        Assert.Null(cache.Get(OutcomeCache.Key(Digest, "q", "gen1", "roots1", "webhook")));
    }

    [Fact]
    public void Put_BeyondCapacity_SizeStaysBoundedNewestKept()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch);
        var cache = new OutcomeCache(clock, capacity: 100);

        for (var i = 0; i < 1_000; i++)
        {
            clock.Now += TimeSpan.FromMilliseconds(1);
            cache.Put($"k{i}", Outcome(passed: true));
        }

        Assert.InRange(cache.Count, 1, 100);
        Assert.NotNull(cache.Get("k999"));
        Assert.Null(cache.Get("k0"));
    }
}
