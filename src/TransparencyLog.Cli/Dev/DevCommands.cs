using System.CommandLine;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;

namespace TransparencyLog.Cli.Dev;

/// <summary><c>dev token</c>: development conveniences, never for production trust.</summary>
internal static class DevCommands
{
    public static Command Create(CliHost host)
    {
        var command = new Command("dev", "Development helpers for a local stack.");
        command.Subcommands.Add(Token(host));
        return command;
    }

    private static Command Token(CliHost host)
    {
        var issuer = new Option<string>("--issuer") { Description = "The development OIDC issuer's base URL.", Required = true, HelpName = "URL" };
        var email = new Option<string?>("--email") { Description = "The email claim.", HelpName = "EMAIL" };
        var subject = new Option<string?>("--sub") { Description = "The sub claim.", HelpName = "SUB" };
        var audience = new Option<string?>("--aud") { Description = "The audience.", HelpName = "AUD", DefaultValueFactory = static _ => "sigstore" };
        var ttl = new Option<int?>("--ttl") { Description = "Lifetime in seconds.", HelpName = "SECONDS" };
        var command = new Command(
            "token",
            "Print one fresh identity token from the development issuer (POST {issuer}/token).\n\n" +
            "Example:\n  export SIGSTORE_ID_TOKEN=$(tlog dev token --issuer http://127.0.0.1:5556 --email me@example.com)");
        CommandActions.AddOptions(command, issuer, email, subject, audience, ttl);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var emailValue = parseResult.GetValue(email);
            var subjectValue = parseResult.GetValue(subject);
            if (emailValue is null && subjectValue is null)
            {
                throw new CliException(ExitCodes.Usage, "give --email or --sub: the token must name someone");
            }

            if (parseResult.GetValue(ttl) is <= 0)
            {
                throw new CliException(ExitCodes.Usage, "--ttl must be a positive number of seconds");
            }

            var token = await new DevTokenClient(host.Context.Http).MintAsync(
                parseResult.GetRequiredValue(issuer), emailValue, subjectValue, parseResult.GetValue(audience), parseResult.GetValue(ttl), cancellationToken);
            reporter.Line(token);
            reporter.Result(new JsonObject { ["ok"] = true, ["token"] = token });
            return ExitCodes.Success;
        });
        return command;
    }
}
