using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Http;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>A log checkpoint that contradicts what a witness cosigned: both notes are signed by the log.</summary>
internal sealed record SplitView(string Witness, string WitnessNote, string Message);

/// <summary>
/// Split-view detection (<c>tlog monitor --witness-policy FILE</c>): each cycle asks every policy witness that has a URL
/// for the checkpoint it last cosigned for the log (<c>GET URL/&lt;hex SHA-256 of origin&gt;/checkpoint</c>), keeps the
/// answers whose cosignature verifies under the policy's key and whose note verifies under the log's key, and compares
/// (origin, size, root) with the log's own checkpoint: another root at the same size, or a witnessed tree the log's
/// tree does not extend (no consistency proof from the log), proves the log showed two histories. A witness that
/// is down, does not offer the read, or has cosigned nothing is skipped (counted, not alerted).
/// </summary>
internal sealed class SplitViewCheck(HttpClient http, WitnessPolicy policy, string policyPath)
{
    /// <summary>Largest witness answer read (a note with a few signature lines is well under 1 KiB).</summary>
    private const int MaxAnswerBytes = 64 * 1024;

    /// <summary>Witnesses skipped in the last run (down, no such read, nothing cosigned, or a line that did not verify).</summary>
    public IReadOnlyList<string> Skipped { get; private set; } = [];

    public static Option<string?> Option() => new("--witness-policy")
    {
        Description = "Split-view detection: compare the log's checkpoint with what this policy's witnesses (their URLs) last " +
            "cosigned; another root at one size, or a witnessed tree the log does not extend, is a split_view alert (exit 4).",
        HelpName = "FILE",
    };

    public static SplitViewCheck? From(ParseResult parseResult, Option<string?> option, CliHost host)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        ArgumentNullException.ThrowIfNull(host);
        if (parseResult.GetValue(option) is not { } path)
        {
            return null;
        }

        if (!File.Exists(path) || new FileInfo(path).Length > WitnessPolicy.MaxBytes)
        {
            throw new CliException(ExitCodes.Usage, $"witness policy '{path}' does not exist or is larger than {WitnessPolicy.MaxBytes} bytes");
        }

        try
        {
            var policy = WitnessPolicy.Parse(File.ReadAllText(path));
            return policy.Witnesses.Any(static w => w.Url is not null)
                ? new SplitViewCheck(host.Context.Http, policy, path)
                : throw new CliException(ExitCodes.Usage, $"witness policy '{path}' names no witness URL to ask (witness NAME VKEY URL)");
        }
        catch (FormatException ex)
        {
            throw new CliException(ExitCodes.Usage, $"'{path}' is not a valid witness policy: {ex.Message}");
        }
    }

    /// <summary>The first contradiction between <paramref name="checkpoint"/> (verified with <paramref name="logKey"/>) and a witness's view, or null.</summary>
    /// <param name="consistencyProof">The log's consistency proof between two sizes (from its tiles or its API).</param>
    public async Task<SplitView?> FindAsync(
        Func<long, long, CancellationToken, Task<IReadOnlyList<Hash>>> consistencyProof, NoteVerifierKey logKey, Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consistencyProof);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var originHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(checkpoint.Origin)));
        var skipped = new List<string>();
        try
        {
            foreach (var witness in policy.Witnesses.Where(static w => w.Url is not null))
            {
                var note = await ReadAsync(new Uri(witness.Url!.ToString().TrimEnd('/') + "/" + originHash + "/checkpoint"), cancellationToken);
                if (note is null
                    || !Cosignature.TryVerify(note, witness.Key, out _)
                    || !new NoteVerifier([logKey]).TryVerifyCheckpoint(note, out var cosigned)
                    || cosigned is null
                    || cosigned.Origin != checkpoint.Origin)
                {
                    skipped.Add(witness.Name);
                    continue;
                }

                var logRoot = Hash.FromBytes(checkpoint.RootHash);
                var witnessRoot = Hash.FromBytes(cosigned.RootHash);
                if (cosigned.Size == checkpoint.Size && witnessRoot != logRoot)
                {
                    return new SplitView(witness.Name, note, $"SPLIT VIEW: the log signed two roots for size {checkpoint.Size}: {logRoot} (served to this monitor) and {witnessRoot} (cosigned by witness {witness.Name} of {policyPath})");
                }

                if (cosigned.Size < checkpoint.Size)
                {
                    var proof = await consistencyProof(cosigned.Size, checkpoint.Size, cancellationToken);
                    if (!ProofVerifier.VerifyConsistency(cosigned.Size, checkpoint.Size, proof, witnessRoot, logRoot))
                    {
                        return new SplitView(witness.Name, note, $"SPLIT VIEW: the log's tree of size {checkpoint.Size} ({logRoot}) does not extend the tree of size {cosigned.Size} ({witnessRoot}) cosigned by witness {witness.Name} of {policyPath}");
                    }
                }

                // A witness ahead of the log (size above the checkpoint's) is checked on a later cycle, once the log caught up.
            }
        }
        finally
        {
            Skipped = skipped;
        }

        return null;
    }

    private async Task<string?> ReadAsync(Uri url, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return response.StatusCode == HttpStatusCode.OK && await BoundedBody.ReadAsync(response.Content, MaxAnswerBytes, timeout.Token) is { } body
                ? Encoding.UTF8.GetString(body)
                : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
