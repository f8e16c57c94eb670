using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Cli.Hosting;

/// <summary>
/// Output for one command: results on stdout (text or JSON), progress and errors on stderr. With
/// <c>--output json</c> stdout carries exactly one JSON document, success or failure.
/// </summary>
internal sealed class Reporter
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly TextWriter _out;
    private readonly TextWriter _err;

    // Spectre.Console stays behind AnimatedStatus: a command whose stderr is not a terminal (scripts, CI, every
    // verification a cluster runs) neither loads its assembly nor builds its types.
    private readonly AnimatedStatus? _status;

    public Reporter(TextWriter output, TextWriter error, bool json, bool interactive)
    {
        _out = output;
        _err = error;
        Json = json;
        if (interactive)
        {
            _status = new AnimatedStatus(error);
        }
    }

    public bool Json { get; }

    /// <summary>Runs <paramref name="work"/> under a status line; each call to the callback replaces the status.</summary>
    public async Task<T> StepsAsync<T>(string status, Func<Action<string>, Task<T>> work)
    {
        if (_status is null)
        {
            void Line(string s) => _err.WriteLine($"> {s}");
            Line(status);
            return await work(Line);
        }

        return await _status.RunAsync(status, work);
    }

    /// <summary>A human line on stdout (text mode only).</summary>
    public void Line(string text)
    {
        if (!Json)
        {
            _out.WriteLine(text);
        }
    }

    /// <summary>A note on stderr, in both modes.</summary>
    public void Note(string text) => _err.WriteLine(text);

    public void Result(JsonObject result)
    {
        if (Json)
        {
            _out.WriteLine(result.ToJsonString(s_json));
        }
    }

    public int Fail(int exitCode, string message, string? code)
    {
        _err.WriteLine(code is null ? $"Error: {message}" : $"Error: {code}: {message}");
        if (Json)
        {
            var result = new JsonObject { ["ok"] = false, ["exitCode"] = exitCode, ["error"] = message };
            if (code is not null)
            {
                result["code"] = code;
            }

            _out.WriteLine(result.ToJsonString(s_json));
        }

        return exitCode;
    }
}
