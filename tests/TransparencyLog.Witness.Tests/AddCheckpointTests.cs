using System.Net;
using Npgsql;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Tests.Shared;
using TransparencyLog.Witness.Tests.Infrastructure;

namespace TransparencyLog.Witness.Tests;

/// <summary>c2sp.org/tlog-witness add-checkpoint against the real witness process, one status-matrix row per test.</summary>
public sealed class AddCheckpointTests(WitnessFixture fixture) : IClassFixture<WitnessFixture>
{
    [Fact]
    public async Task AddCheckpoint_ConsistentCheckpoints_ReturnsVerifiableCosignatures()
    {
        var log = fixture.Log("good").Append(5);
        var first = log.Checkpoint();

        var line = await CosignAsync(log.BodyFrom(0));
        var cosigned = first + line;
        Assert.True(Cosignature.TryVerify(cosigned, fixture.WitnessKey, out var time));
        Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
        // The log's own signature still verifies with the cosignature appended (clients drop unknown lines).
        Assert.True(new NoteVerifier(log.VerifierKey).Verify(cosigned));

        foreach (var grow in new[] { 1, 7, 100 })
        {
            var old = log.Size;
            log.Append(grow);
            var next = await CosignAsync(log.BodyFrom(old));
            Assert.True(Cosignature.TryVerify(log.Checkpoint() + next, fixture.WitnessKey, out _));
        }

        // The same checkpoint again (old = its size) is cosigned afresh.
        Assert.True(Cosignature.TryVerify(log.Checkpoint() + await CosignAsync(log.BodyFrom(log.Size)), fixture.WitnessKey, out _));
    }

    [Fact]
    public async Task AddCheckpoint_RekorV1EcdsaCheckpointWithExtension_CosignsWholeNote()
    {
        var log = fixture.Log("rekor-v1").Append(3);
        var note = log.Checkpoint(null, "Timestamp: 1733443200000000000");

        using var response = await fixture.Witness.AddCheckpointAsync(TestLog.Body(0, [], note));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = await response.Content.ReadAsStringAsync();
        Assert.True(Cosignature.TryVerify(note + line, fixture.WitnessKey, out _));
        // The cosignature covers the extension line: changing it breaks the cosignature.
        var altered = log.Checkpoint(null, "Timestamp: 1733443200000000001");
        Assert.False(Cosignature.TryVerify(altered + line, fixture.WitnessKey, out _));
    }

    [Fact]
    public async Task AddCheckpoint_TamperedProof_Returns422AndKeepsState()
    {
        var log = fixture.Log("tampered").Append(11);
        await CosignAsync(log.BodyFrom(0));
        log.Append(6);
        var proof = log.Proof(11, log.Size);
        var note = log.Checkpoint();

        var flipped = proof.ToArray();
        var bytes = flipped[1].ToArray();
        bytes[0] ^= 1;
        flipped[1] = Hash.FromBytes(bytes);
        foreach (var bad in new[] { flipped, proof[..^1], [.. proof, proof[0]], proof.Reverse().ToArray() })
        {
            using var response = await fixture.Witness.AddCheckpointAsync(TestLog.Body(11, bad, note));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.StartsWith("inconsistent_checkpoint:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Nothing moved: the correct proof from 11 is still what the witness wants.
        Assert.True(Cosignature.TryVerify(note + await CosignAsync(TestLog.Body(11, proof, note)), fixture.WitnessKey, out _));
    }

    [Fact]
    public async Task AddCheckpoint_ForkedLogSameSize_Returns422AndKeepsEvidence()
    {
        var log = fixture.Log("fork").Append(8);
        await CosignAsync(log.BodyFrom(0));
        var fork = log.Fork();
        log.Append(4);
        fork.Append(4);
        await CosignAsync(log.BodyFrom(8));

        // Two heads of size 12, both signed by the log: the second one is refused, old = 12 or a proof from 8.
        using (var sameSize = await fixture.Witness.AddCheckpointAsync(TestLog.Body(12, [], fork.Checkpoint())))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, sameSize.StatusCode);
        }

        using (var fromOld = await fixture.Witness.AddCheckpointAsync(fork.BodyFrom(8)))
        {
            Assert.Equal(HttpStatusCode.Conflict, fromOld.StatusCode);
        }

        Assert.Equal(1, await CountEvidenceAsync(log.Origin));
        // The fork can never continue from the cosigned head either.
        fork.Append(3);
        using (var forkAhead = await fixture.Witness.AddCheckpointAsync(TestLog.Body(12, fork.Proof(12, fork.Size), fork.Checkpoint())))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, forkAhead.StatusCode);
        }

        Assert.Equal(2, await CountEvidenceAsync(log.Origin));
    }

    [Fact]
    public async Task AddCheckpoint_Rollback_Returns409WithCosignedSize()
    {
        var log = fixture.Log("rollback").Append(20);
        await CosignAsync(log.BodyFrom(0));

        // An older checkpoint of the same log, presented as if the witness had seen nothing newer.
        using var response = await fixture.Witness.AddCheckpointAsync(TestLog.Body(10, log.Proof(10, 10), log.Checkpoint(10)));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("text/x.tlog.size", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("20\n", await response.Content.ReadAsStringAsync());

        // old > size is malformed.
        using var backwards = await fixture.Witness.AddCheckpointAsync(TestLog.Body(20, [], log.Checkpoint(10)));
        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
    }

    [Fact]
    public async Task AddCheckpoint_StaleOldSize_Returns409AndLogRecoversWithProofFromThatSize()
    {
        var log = fixture.Log("stale").Append(4);
        await CosignAsync(log.BodyFrom(0));
        log.Append(4);

        // A log that lost the 200 (or never knew the witness) asks from 0: the witness says 4.
        using var response = await fixture.Witness.AddCheckpointAsync(log.BodyFrom(0));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var size = long.Parse(await response.Content.ReadAsStringAsync(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(4, size);

        Assert.True(Cosignature.TryVerify(log.Checkpoint() + await CosignAsync(log.BodyFrom(size)), fixture.WitnessKey, out _));
    }

    [Fact]
    public async Task AddCheckpoint_SizeZeroWithWrongRoot_Returns422()
    {
        var log = fixture.Log("zero");
        using var bad = await fixture.Witness.AddCheckpointAsync(TestLog.Body(0, [], log.SignedCheckpoint(0, Rfc6962.HashLeaf([1]))));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);

        Assert.True(Cosignature.TryVerify(log.Checkpoint(0) + await CosignAsync(TestLog.Body(0, [], log.Checkpoint(0))), fixture.WitnessKey, out _));
    }

    [Fact]
    public async Task AddCheckpoint_UnknownOrigin_Returns404()
    {
        using var stranger = new TestLog("stranger.log.test");
        stranger.Append(2);

        using var response = await fixture.Witness.AddCheckpointAsync(stranger.BodyFrom(0));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("unknown_log:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCheckpoint_SignatureByAnotherKeyOrForgedLine_Returns403()
    {
        var log = fixture.Log("forged").Append(3);
        // Same origin, another key: no trusted signature.
        using var impostor = new TestLog(log.Origin);
        impostor.Append(3);
        using (var response = await fixture.Witness.AddCheckpointAsync(impostor.BodyFrom(0)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        // A line under the log's name and key ID whose signature does not verify rejects the note.
        var note = log.Checkpoint();
        var lineStart = note.LastIndexOf('\u2014');
        var signature = Convert.FromBase64String(note[(note.LastIndexOf(' ') + 1)..^1]);
        signature[^1] ^= 0xff;
        var forged = note[..lineStart] + note[lineStart..(note.LastIndexOf(' ') + 1)] + Convert.ToBase64String(signature) + "\n";
        using (var response = await fixture.Witness.AddCheckpointAsync(TestLog.Body(0, [], forged)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        // Neither moved the state.
        await CosignAsync(log.BodyFrom(0));
    }

    [Theory]
    [InlineData("old 007\n")]
    [InlineData("old -1\n")]
    [InlineData("old 1 \n")]
    [InlineData("new 0\n")]
    [InlineData("old 0\nnot-base64!\n")]
    [InlineData("old 0\nAAAA\n")]
    public async Task AddCheckpoint_MalformedHeader_Returns400(string header)
    {
        var log = fixture.Log("malformed").Append(1);

        using var response = await fixture.Witness.AddCheckpointAsync(header + "\n" + log.Checkpoint());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("malformed_request:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCheckpoint_MalformedBodies_Return400Or413()
    {
        var log = fixture.Log("malformed").Append(1);
        var hash = Convert.ToBase64String(new byte[32]) + "\n";
        var cases = new (string Body, HttpStatusCode Status)[]
        {
            ("old 0\n" + log.Checkpoint(), HttpStatusCode.BadRequest),
            ("old 0\n" + string.Concat(Enumerable.Repeat(hash, 64)) + "\n" + log.Checkpoint(), HttpStatusCode.BadRequest),
            ("old 0\n\n" + log.Checkpoint().Replace("\n\n", "\n", StringComparison.Ordinal), HttpStatusCode.BadRequest),
            ("old 0\n\nno checkpoint here\n", HttpStatusCode.BadRequest),
            ("", HttpStatusCode.BadRequest),
            ("old 0\n\n" + new string('x', 70_000), HttpStatusCode.RequestEntityTooLarge),
        };

        foreach (var (body, status) in cases)
        {
            using var response = await fixture.Witness.AddCheckpointAsync(body);
            Assert.True(status == response.StatusCode, $"{body[..Math.Min(body.Length, 40)]}: expected {status}, got {response.StatusCode}");
        }
    }

    [Fact]
    public async Task AddCheckpoint_OverRateLimit_Returns429WithRetryAfter()
    {
        var log = fixture.Log("limited").Append(2);
        using (var first = await fixture.Witness.AddCheckpointAsync(log.BodyFrom(0)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var second = await fixture.Witness.AddCheckpointAsync(log.BodyFrom(log.Size)))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        using var third = await fixture.Witness.AddCheckpointAsync(log.BodyFrom(log.Size));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);

        // Another log is not affected by this one's limit.
        var other = fixture.Log("recover").Append(1);
        await CosignAsync(other.BodyFrom(0));
    }

    [Fact]
    public async Task AddCheckpoint_ParallelMixedSizes_StateOnlyGrowsAndOneRootPerSize()
    {
        var log = fixture.Log("parallel").Append(64);
        var fork = log.Fork();
        log.Append(64);
        fork.Append(64);

        // 50 submissions at once: sizes 1..128 of the log and of a fork, each claiming old 0 or the previous size.
        var bodies = Enumerable.Range(0, 50).Select(i =>
        {
            var size = 1 + (i * 37 % 128);
            var source = i % 5 == 0 && size > 64 ? fork : log;
            var old = i % 2 == 0 ? 0 : Math.Max(0, size - 9);
            return (Size: size, Root: source.Root(size), Body: TestLog.Body(old, source.Proof(old, size), source.Checkpoint(size)));
        }).ToList();
        var results = await Task.WhenAll(bodies.Select(async b =>
        {
            using var response = await fixture.Witness.AddCheckpointAsync(b.Body);
            return (b.Size, b.Root, response.StatusCode);
        }));

        var cosigned = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        Assert.NotEmpty(cosigned);
        Assert.All(results, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict, HttpStatusCode.UnprocessableEntity }));
        Assert.All(cosigned.GroupBy(r => r.Size), g => Assert.Single(g.Select(r => r.Root).Distinct()));
        // At most one branch past the fork point is ever cosigned.
        var cosignedRoots = cosigned.Where(r => r.Size > 64).Select(r => r.Root == log.Root(r.Size)).Distinct().ToList();
        Assert.True(cosignedRoots.Count <= 1, "both branches of the fork were cosigned");
        var (size, root) = await ReadStateAsync(log.Origin);
        Assert.Equal(cosigned.Max(r => r.Size), size);
        Assert.Equal(cosigned.First(r => r.Size == size).Root, root);
    }

    [Fact]
    public async Task AddCheckpoint_TwoWitnessProcessesRacingWithForks_NeverCosignTwoViews()
    {
        await using var replica = await fixture.StartReplicaAsync();
        var log = fixture.Log("race").Append(10);
        await CosignAsync(log.BodyFrom(0));
        for (var round = 0; round < 5; round++)
        {
            var fork = log.Fork();
            var old = log.Size;
            log.Append(3);
            fork.Append(3);

            // Each branch goes to both processes at once, several times.
            var attempts = Enumerable.Range(0, 12).Select(async i =>
            {
                var branch = i % 2 == 0 ? log : fork;
                var witness = i % 4 < 2 ? fixture.Witness : replica;
                using var response = await witness.AddCheckpointAsync(branch.BodyFrom(old));
                return (Branch: branch, response.StatusCode, Line: await response.Content.ReadAsStringAsync());
            });
            var results = await Task.WhenAll(attempts);

            var winners = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
            Assert.NotEmpty(winners);
            Assert.Single(winners.Select(w => w.Branch).Distinct());
            Assert.All(winners, w => Assert.True(Cosignature.TryVerify(w.Branch.Checkpoint() + w.Line, fixture.WitnessKey, out _)));
            Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Conflict, HttpStatusCode.UnprocessableEntity }));

            // Continue with the branch that won.
            log = winners[0].Branch;
            var (size, root) = await ReadStateAsync(log.Origin);
            Assert.Equal(log.Size, size);
            Assert.Equal(log.Root(log.Size), root);
        }
    }

    [Fact]
    public async Task AddCheckpoint_AnotherProcessMovedTheState_NeverCosignsFromWhatThisProcessLastSaw()
    {
        // Each process remembers the state it last wrote; the other process moves the row behind its back.
        await using var other = await fixture.StartReplicaAsync();
        var log = fixture.Log("moved").Append(10);
        await CosignAsync(log.BodyFrom(0));
        log.Append(5);
        using (var moved = await other.AddCheckpointAsync(log.BodyFrom(10)))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        // From the size this process last cosigned: a valid proof, but the row is at 15 now.
        log.Append(5);
        using (var stale = await fixture.Witness.AddCheckpointAsync(log.BodyFrom(10)))
        {
            Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
            Assert.Equal("15\n", await stale.Content.ReadAsStringAsync());
        }

        Assert.Equal((15L, log.Root(15)), await ReadStateAsync(log.Origin));
        Assert.True(Cosignature.TryVerify(log.Checkpoint() + await CosignAsync(log.BodyFrom(15)), fixture.WitnessKey, out _));

        // The other process moves on to 25; a fork of 25 offered here from 20 (what this process last saw) is refused,
        // and so is the fork's 25 from 25 (another root for a cosigned size).
        var fork = log.Fork();
        log.Append(5);
        fork.Append(5);
        using (var ahead = await other.AddCheckpointAsync(log.BodyFrom(20)))
        {
            Assert.Equal(HttpStatusCode.OK, ahead.StatusCode);
        }

        using (var forked = await fixture.Witness.AddCheckpointAsync(fork.BodyFrom(20)))
        {
            Assert.Equal(HttpStatusCode.Conflict, forked.StatusCode);
            Assert.Equal("25\n", await forked.Content.ReadAsStringAsync());
        }

        using (var sameSize = await fixture.Witness.AddCheckpointAsync(TestLog.Body(25, [], fork.Checkpoint())))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, sameSize.StatusCode);
        }

        Assert.Equal((25L, log.Root(25)), await ReadStateAsync(log.Origin));
    }

    [Fact]
    public async Task Metrics_AfterRequests_CountByOriginAndResult()
    {
        var log = fixture.Log("metrics").Append(1);
        await CosignAsync(log.BodyFrom(0));
        using (await fixture.Witness.AddCheckpointAsync(log.BodyFrom(0)))
        {
        }

        var scrape = await PrometheusScrape.GetAsync(fixture.Witness.Client);
        Assert.Equal(1, scrape.Sum("tlog_witness_add_checkpoint_total", ("origin", log.Origin), ("result", "cosigned")));
        Assert.Equal(1, scrape.Sum("tlog_witness_add_checkpoint_total", ("origin", log.Origin), ("result", "stale_old_size")));
    }

    [Fact]
    public async Task WitnessState_RollbackByDirectUpdate_RefusedByDatabase()
    {
        var log = fixture.Log("immutable").Append(2);
        await CosignAsync(log.BodyFrom(0));

        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        await using var rollback = new NpgsqlCommand("UPDATE witness_state SET tree_size = 0 WHERE origin = $1", connection);
        rollback.Parameters.AddWithValue(log.Origin);
        var error = await Assert.ThrowsAsync<PostgresException>(() => rollback.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);

        await using var delete = new NpgsqlCommand("DELETE FROM witness_log WHERE origin = $1", connection);
        delete.Parameters.AddWithValue(log.Origin);
        await Assert.ThrowsAsync<PostgresException>(() => delete.ExecuteNonQueryAsync());
    }

    private async Task<string> CosignAsync(string body)
    {
        using var response = await fixture.Witness.AddCheckpointAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {text}");
        Assert.Matches("^\u2014 witness\\.test/w1 [A-Za-z0-9+/]{102}==\n$", text);
        return text;
    }

    private async Task<(long Size, Hash Root)> ReadStateAsync(string origin)
    {
        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tree_size, root_hash FROM witness_state WHERE origin = $1", connection);
        command.Parameters.AddWithValue(origin);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), Hash.FromBytes((byte[])reader[1]));
    }

    private async Task<long> CountEvidenceAsync(string origin)
    {
        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM witness_evidence WHERE origin = $1", connection);
        command.Parameters.AddWithValue(origin);
        return (long)(await command.ExecuteScalarAsync() ?? 0L);
    }
}
