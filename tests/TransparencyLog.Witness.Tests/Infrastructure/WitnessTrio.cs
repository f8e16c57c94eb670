using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Witness.Tests.Infrastructure;

/// <summary>One of a <see cref="WitnessTrio"/>: its name, port, key directory, C2SP verifier key and database.</summary>
internal sealed record WitnessMember(string Name, int Port, string Directory, string VerifierKey, string Database);

/// <summary>
/// Three witnesses w0, w1, w2 for tests of a log asking them: each its own party (its Ed25519 key in its own directory,
/// its own port and database: the state is per origin, not per witness key), and the 2-of-3 policy
/// <c>group main 2 w0 w1 w2</c> / <c>quorum main</c> over them, written to a file. Started on demand; stopped and
/// removed on dispose.
/// </summary>
internal sealed class WitnessTrio : IAsyncDisposable
{
    private readonly List<WitnessProcess> _running = [];
    private readonly List<TestDatabase> _databases;

    private WitnessTrio(IReadOnlyList<WitnessMember> members, List<TestDatabase> databases, string policyFile, WitnessPolicy policy)
    {
        _databases = databases;
        Members = members;
        PolicyFile = policyFile;
        Policy = policy;
    }

    public IReadOnlyList<WitnessMember> Members { get; }

    public string PolicyFile { get; }

    public WitnessPolicy Policy { get; }

    /// <summary>The witness processes started so far (their output helps a failing assertion).</summary>
    public IReadOnlyList<WitnessProcess> Running => _running;

    /// <param name="label">Names the witnesses (<c>w0.LABEL.test</c>) and their databases.</param>
    /// <param name="directory">Where the policy file is written.</param>
    /// <param name="withoutDatabase">A member that never runs (its key only signs), so gets no database.</param>
    public static async Task<WitnessTrio> CreateAsync(string label, string directory, int? withoutDatabase = null)
    {
        var members = new List<WitnessMember>();
        var databases = new List<TestDatabase>();
        for (var i = 0; i < 3; i++)
        {
            var keyDirectory = System.IO.Directory.CreateTempSubdirectory("tlog-witness-key-").FullName;
            using var key = LogSigner.Generate(LogKeyType.Ed25519);
            await File.WriteAllTextAsync(Path.Combine(keyDirectory, "witness-key.pem"), key.ExportPkcs8Pem(null));
            var name = $"w{i}.{label}.test";
            var database = "";
            if (i != withoutDatabase)
            {
                databases.Add(await PostgresServer.CreateDatabaseAsync(label + "w" + i));
                database = databases[^1].App;
            }

            members.Add(new WitnessMember(name, TestPorts.Next(), keyDirectory, new Cosigner(name, key).VerifierKey, database));
        }

        var policy = string.Concat(members.Select((w, i) => $"witness w{i} {w.VerifierKey} http://127.0.0.1:{w.Port}/\n")) + "group main 2 w0 w1 w2\nquorum main\n";
        var policyFile = Path.Combine(directory, "witness-policy.txt");
        await File.WriteAllTextAsync(policyFile, policy);
        return new WitnessTrio(members, databases, policyFile, WitnessPolicy.Parse(policy));
    }

    /// <summary>Starts member <paramref name="index"/> as a witness process of <paramref name="logs"/>.</summary>
    public async Task StartAsync(int index, params WitnessProcess.LogConfig[] logs)
    {
        var member = Members[index];
        _running.Add(await WitnessProcess.StartAsync(member.Database, member.Directory, logs, member.Name, member.Port));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var witness in _running)
        {
            await witness.DisposeAsync();
        }

        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }

        foreach (var member in Members)
        {
            System.IO.Directory.Delete(member.Directory, recursive: true);
        }
    }
}
