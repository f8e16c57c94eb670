using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Cli.Tuf;

/// <summary>
/// <c>tlog tuf …</c>: the key holders' ceremony for the TUF repository the log service serves (init, add-key,
/// rotate, add-target, sign, status, publish, verify), and <c>tlog initialize</c> for clients.
/// </summary>
internal static class TufCommands
{
    private static readonly string[] s_offlineRoles = [TufMetadata.Root, TufMetadata.Targets];

    public static Command Create(CliHost host)
    {
        var command = new Command("tuf", "Run a TUF signing ceremony for the repository the log service serves at <REKOR_URL>/tuf/ (docs/trust-root.md).");
        command.Subcommands.Add(GenerateKey(host));
        command.Subcommands.Add(Init(host));
        command.Subcommands.Add(AddKey(host));
        command.Subcommands.Add(Rotate(host));
        command.Subcommands.Add(AddTarget(host));
        command.Subcommands.Add(Sign(host));
        command.Subcommands.Add(Status(host));
        command.Subcommands.Add(Publish(host));
        command.Subcommands.Add(Verify(host));
        return command;
    }

    private static Option<string> RepoOption() => new("--repo")
    {
        Description = "The ceremony directory (metadata/, staged/, targets/).",
        HelpName = "DIR",
        DefaultValueFactory = static _ => ".",
    };

    private static Command GenerateKey(CliHost host)
    {
        var type = new Option<string>("--type") { Description = "Key type.", DefaultValueFactory = static _ => "ecdsa", HelpName = "ecdsa|ed25519" }.AcceptOnlyFromAmong("ecdsa", "ed25519");
        var prefix = new Option<string>("--out") { Description = "Writes PREFIX.pem (private, mode 0600; encrypted when TLOG_TUF_KEY_PASSWORD is set) and PREFIX.pub.", Required = true, HelpName = "PREFIX" };
        var command = new Command("generate-key", "Generate a TUF signing key (ECDSA P-256 or Ed25519). Keep root and targets keys offline.\n\nExample:\n  tlog tuf generate-key --out root1");
        command.Options.Add(type);
        command.Options.Add(prefix);
        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var privatePath = parseResult.GetRequiredValue(prefix) + ".pem";
            var publicPath = parseResult.GetRequiredValue(prefix) + ".pub";
            if (File.Exists(privatePath) || File.Exists(publicPath))
            {
                throw new CliException(ExitCodes.Usage, $"'{privatePath}' or '{publicPath}' already exists");
            }

            using var key = LogSigner.Generate(parseResult.GetValue(type) == "ed25519" ? LogKeyType.Ed25519 : LogKeyType.EcdsaP256);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(privatePath)) ?? ".");
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var writer = new StreamWriter(new FileStream(privatePath, options)))
            {
                writer.Write(key.ExportPkcs8Pem(host.Context.Env("TLOG_TUF_KEY_PASSWORD")));
            }

            CommandActions.WriteFileAtomically(publicPath, key.PublicKeyPem);
            var keyId = TufKey.FromPublicKey(key.PublicKey).KeyId;
            reporter.Line($"Wrote {privatePath} and {publicPath} (keyid {keyId})");
            reporter.Result(new JsonObject { ["ok"] = true, ["privateKey"] = privatePath, ["publicKey"] = publicPath, ["keyid"] = keyId });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Init(CliHost host)
    {
        var repo = RepoOption();
        var rootKeys = new Option<string[]>("--root-key") { Description = "Public key file of a root key holder (repeat).", Required = true, AllowMultipleArgumentsPerToken = true, HelpName = "PUB" };
        var rootThreshold = new Option<int>("--root-threshold") { Description = "Signatures root needs.", DefaultValueFactory = static _ => 1 };
        var targetsKeys = new Option<string[]>("--targets-key") { Description = "Public key file of a targets key holder (repeat).", Required = true, AllowMultipleArgumentsPerToken = true, HelpName = "PUB" };
        var targetsThreshold = new Option<int>("--targets-threshold") { Description = "Signatures targets needs.", DefaultValueFactory = static _ => 1 };
        var online = new Option<string>("--online-key") { Description = "Public key of the service's online key (snapshot and timestamp).", Required = true, HelpName = "PUB" };
        var rootDays = new Option<int>("--root-expires-days") { DefaultValueFactory = static _ => 365, Description = "Root lifetime." };
        var targetsDays = new Option<int>("--targets-expires-days") { DefaultValueFactory = static _ => 180, Description = "Targets lifetime." };
        var command = new Command(
            "init",
            "Stage root v1 and (empty) targets v1 of a new repository. Then add targets, have the key holders sign, and publish.\n\n" +
            "Example:\n  tlog tuf init --repo ceremony --root-key r1.pub r2.pub r3.pub --root-threshold 2 --targets-key t1.pub t2.pub --targets-threshold 2 --online-key online.pub");
        CommandActions.AddOptions(command, repo, rootKeys, rootThreshold, targetsKeys, targetsThreshold, online, rootDays, targetsDays);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var area = new TufStagingArea(parseResult.GetRequiredValue(repo));
            if (area.Exists)
            {
                throw new CliException(ExitCodes.Usage, $"{area.Directory} already holds a repository");
            }

            var root = parseResult.GetRequiredValue(rootKeys).Select(TufStagingArea.LoadPublicKey).ToList();
            var targets = parseResult.GetRequiredValue(targetsKeys).Select(TufStagingArea.LoadPublicKey).ToList();
            var onlineKey = TufStagingArea.LoadPublicKey(parseResult.GetRequiredValue(online));
            var roles = new Dictionary<string, (IReadOnlyList<TufKey>, int)>
            {
                [TufMetadata.Root] = (root, CheckThreshold(parseResult.GetValue(rootThreshold), root.Count, "root")),
                [TufMetadata.Targets] = (targets, CheckThreshold(parseResult.GetValue(targetsThreshold), targets.Count, "targets")),
                [TufMetadata.Snapshot] = ([onlineKey], 1),
                [TufMetadata.Timestamp] = ([onlineKey], 1),
            };
            area.Stage(TufRoot.Build(1, TufStagingArea.Expiry(host, parseResult.GetValue(rootDays)), roles));
            area.Stage(TufDocuments.BuildTargets(1, TufStagingArea.Expiry(host, parseResult.GetValue(targetsDays)), new Dictionary<string, TufTargetFile>()));
            Directory.CreateDirectory(area.TargetsDirectory);
            if (parseResult.GetValue(rootThreshold) < 2 || parseResult.GetValue(targetsThreshold) < 2)
            {
                reporter.Note("warning: a threshold of 1 lets one stolen key sign; use k >= 2 offline keys in production");
            }

            reporter.Line($"Staged root v1 and targets v1 in {area.Directory}/staged");
            reporter.Result(new JsonObject { ["ok"] = true });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static int CheckThreshold(int threshold, int keys, string role) =>
        threshold >= 1 && threshold <= keys ? threshold : throw new CliException(ExitCodes.Usage, $"the {role} threshold must be between 1 and its {keys} key(s)");

    /// <summary>Edits the next root (staged, else published + 1); every edit clears the staged root's signatures.</summary>
    private static void EditRoot(CliHost host, TufStagingArea area, int expiresDays, Action<Dictionary<string, (List<TufKey> Keys, int Threshold)>> edit)
    {
        var staged = area.StagedRole(TufMetadata.Root);
        var basis = staged is not null ? TufRoot.From(staged) : area.PublishedRoot() ?? throw new CliException(ExitCodes.Usage, $"{area.Directory} holds no TUF repository: run tlog tuf init first");
        var roles = TufRoot.RoleNames.ToDictionary(static r => r, r => (Keys: basis.RoleKeys(r).Keys.ToList(), basis.RoleKeys(r).Threshold));
        edit(roles);
        foreach (var (name, (keys, threshold)) in roles)
        {
            CheckThreshold(threshold, keys.Count, name);
        }

        area.Stage(TufRoot.Build(staged?.Version ?? basis.Version + 1, TufStagingArea.Expiry(host, expiresDays), roles.ToDictionary(static r => r.Key, static r => ((IReadOnlyList<TufKey>)r.Value.Keys, r.Value.Threshold))));
    }

    private static Command AddKey(CliHost host)
    {
        var repo = RepoOption();
        var role = new Option<string>("--role") { Required = true, HelpName = "ROLE", Description = "root, targets, snapshot or timestamp." }.AcceptOnlyFromAmong(TufRoot.RoleNames);
        var key = new Option<string>("--key") { Required = true, HelpName = "PUB", Description = "The public key to add." };
        var threshold = new Option<int?>("--threshold") { Description = "The role's new threshold." };
        var days = new Option<int>("--root-expires-days") { DefaultValueFactory = static _ => 365, Description = "The new root's lifetime." };
        var command = new Command("add-key", "Stage the next root with another key for a role (root v N+1 needs both the old and the new root thresholds).\n\nExample:\n  tlog tuf add-key --role targets --key t3.pub --threshold 2");
        CommandActions.AddOptions(command, repo, role, key, threshold, days);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var area = new TufStagingArea(parseResult.GetRequiredValue(repo));
            var added = TufStagingArea.LoadPublicKey(parseResult.GetRequiredValue(key));
            var name = parseResult.GetRequiredValue(role);
            EditRoot(host, area, parseResult.GetValue(days), roles =>
            {
                var (keys, current) = roles[name];
                if (keys.Any(k => k.KeyId == added.KeyId))
                {
                    throw new CliException(ExitCodes.Usage, $"the {name} role already has key {added.KeyId}");
                }

                keys.Add(added);
                roles[name] = (keys, parseResult.GetValue(threshold) ?? current);
            });
            reporter.Line($"Staged root v{area.CurrentRoot().Version}: {name} gains key {added.KeyId}");
            reporter.Result(new JsonObject { ["ok"] = true, ["keyid"] = added.KeyId });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Rotate(CliHost host)
    {
        var repo = RepoOption();
        var role = new Option<string>("--role") { Required = true, HelpName = "ROLE", Description = "root, targets, snapshot or timestamp." }.AcceptOnlyFromAmong(TufRoot.RoleNames);
        var oldKey = new Option<string>("--old-key") { Required = true, HelpName = "PUB", Description = "The key leaving the role." };
        var newKey = new Option<string>("--new-key") { Required = true, HelpName = "PUB", Description = "The key replacing it." };
        var days = new Option<int>("--root-expires-days") { DefaultValueFactory = static _ => 365, Description = "The new root's lifetime." };
        var command = new Command(
            "rotate",
            "Stage the next root with one key of a role replaced. Root N+1 must be signed by the thresholds of root N and of itself, " +
            "so a rotated root key signs with both the old and the new key holders; a rotated online key makes clients drop cached timestamp and snapshot.\n\n" +
            "Example:\n  tlog tuf rotate --role root --old-key r1.pub --new-key r4.pub");
        CommandActions.AddOptions(command, repo, role, oldKey, newKey, days);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var area = new TufStagingArea(parseResult.GetRequiredValue(repo));
            var leaving = TufStagingArea.LoadPublicKey(parseResult.GetRequiredValue(oldKey));
            var joining = TufStagingArea.LoadPublicKey(parseResult.GetRequiredValue(newKey));
            var name = parseResult.GetRequiredValue(role);
            EditRoot(host, area, parseResult.GetValue(days), roles =>
            {
                var (keys, threshold) = roles[name];
                if (keys.RemoveAll(k => k.KeyId == leaving.KeyId) == 0)
                {
                    throw new CliException(ExitCodes.Usage, $"the {name} role has no key {leaving.KeyId}");
                }

                keys.Add(joining);
                roles[name] = (keys, threshold);
            });
            reporter.Line($"Staged root v{area.CurrentRoot().Version}: {name} key {leaving.KeyId} replaced by {joining.KeyId}");
            reporter.Result(new JsonObject { ["ok"] = true });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command AddTarget(CliHost host)
    {
        var repo = RepoOption();
        var name = new Option<string>("--name") { Required = true, HelpName = "NAME", Description = "Target name, e.g. trusted_root.json, signing_config.v0.2.json, rekor.pub." };
        var file = new Option<string>("--file") { Required = true, HelpName = "FILE", Description = "The file's content." };
        var custom = new Option<string?>("--custom") { HelpName = "JSON", Description = "custom object for the target entry." };
        var usage = new Option<string?>("--usage") { HelpName = "USAGE", Description = "Legacy key files: custom.sigstore.usage." }.AcceptOnlyFromAmong("Fulcio", "Rekor", "CTFE", "TSA", "Unknown");
        var status = new Option<string?>("--status") { HelpName = "STATUS", Description = "Legacy key files: custom.sigstore.status (default Active with --usage)." }.AcceptOnlyFromAmong("Active", "Expired");
        var days = new Option<int>("--targets-expires-days") { DefaultValueFactory = static _ => 180, Description = "The new targets' lifetime." };
        var command = new Command(
            "add-target",
            "Stage the next targets version with this file added or replaced (unchanged content stages nothing).\n\n" +
            "Examples:\n  tlog tuf add-target --name trusted_root.json --file trusted_root.json\n  tlog tuf add-target --name rekor.pub --file rekor.pub --usage Rekor");
        CommandActions.AddOptions(command, repo, name, file, custom, usage, status, days);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var area = new TufStagingArea(parseResult.GetRequiredValue(repo));
            area.CurrentRoot();
            var targetName = parseResult.GetRequiredValue(name);
            if (targetName.Length is 0 or > 255 || targetName[0] == '.' || !targetName.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                throw new CliException(ExitCodes.Usage, "a target name is a plain file name (letters, digits, '.', '_', '-')");
            }

            var bytes = CommandActions.ReadInputBytes(parseResult.GetRequiredValue(file), "target file");
            var customObject = TufStagingArea.Custom(parseResult.GetValue(custom));
            if (parseResult.GetValue(usage) is { } use)
            {
                customObject ??= [];
                customObject["sigstore"] = new JsonObject { ["usage"] = use, ["status"] = parseResult.GetValue(status) ?? "Active" };
            }

            var described = TufStagingArea.Describe(bytes, customObject);
            var basis = area.StagedRole(TufMetadata.Targets) ?? area.PublishedTargets();
            if (basis is not null && TufDocuments.TargetFiles(basis).TryGetValue(targetName, out var existing)
                && existing.Sha256 == described.Sha256 && existing.Custom?.ToJsonString() == customObject?.ToJsonString())
            {
                reporter.Line($"{targetName} is unchanged; nothing staged");
                reporter.Result(new JsonObject { ["ok"] = true, ["changed"] = false });
                return Task.FromResult(ExitCodes.Success);
            }

            var next = area.NextTargets(host, parseResult.GetValue(days));
            var files = TufDocuments.TargetFiles(next);
            files[targetName] = described;
            area.Stage(TufDocuments.BuildTargets(next.Version, next.Expires, files));
            Directory.CreateDirectory(area.TargetsDirectory);
            File.WriteAllBytes(Path.Combine(area.TargetsDirectory, targetName), bytes);
            reporter.Line($"Staged targets v{next.Version} with {targetName} ({bytes.Length} bytes, sha256 {described.Sha256})");
            reporter.Result(new JsonObject { ["ok"] = true, ["changed"] = true, ["version"] = next.Version });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Sign(CliHost host)
    {
        var repo = RepoOption();
        var role = new Option<string>("--role") { Required = true, HelpName = "ROLE", Description = "root or targets (snapshot and timestamp are signed by the service)." }.AcceptOnlyFromAmong(s_offlineRoles);
        var key = new Option<string>("--key") { Required = true, HelpName = "FILE|URI", Description = "Private key PEM (encrypted: TLOG_TUF_KEY_PASSWORD), or a pkcs11: URI of a key in a token." };
        var command = new Command("sign", "Add one key holder's signature to the staged root or targets.\n\nExample:\n  tlog tuf sign --role targets --key t1.pem");
        CommandActions.AddOptions(command, repo, role, key);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var area = new TufStagingArea(parseResult.GetRequiredValue(repo));
            var name = parseResult.GetRequiredValue(role);
            var staged = area.StagedRole(name) ?? throw new CliException(ExitCodes.Usage, $"no staged {name} to sign");
            using var signer = TufStagingArea.LoadPrivateKey(host, parseResult.GetRequiredValue(key));
            var keyId = TufKey.FromPublicKey(signer.PublicKey).KeyId;
            var root = area.CurrentRoot();
            var previous = area.PublishedRoot();
            var eligible = root.Roles[name].KeyIds.Contains(keyId) || (name == TufMetadata.Root && previous?.Roles[TufMetadata.Root].KeyIds.Contains(keyId) == true);
            if (!eligible)
            {
                throw new CliException(ExitCodes.Usage, $"key {keyId} is not a {name} key of this repository");
            }

            await staged.SignAsync(signer, cancellationToken);
            area.Stage(staged);
            reporter.Line($"Signed {name} v{staged.Version} with {keyId}");
            reporter.Result(new JsonObject { ["ok"] = true, ["keyid"] = keyId });
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Status(CliHost host)
    {
        var repo = RepoOption();
        var command = new Command("status", "What is staged and which signatures it still needs (root against both the published and its own threshold).\n\nExample:\n  tlog tuf status --repo ceremony");
        command.Options.Add(repo);
        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var area = new TufStagingArea(parseResult.GetRequiredValue(repo));
            var (ready, lines) = Readiness(area);
            foreach (var line in lines)
            {
                reporter.Line(line);
            }

            reporter.Result(new JsonObject { ["ok"] = true, ["ready"] = ready, ["status"] = new JsonArray([.. lines.Select(static l => (JsonNode?)l)]) });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static (bool Ready, List<string> Lines) Readiness(TufStagingArea area)
    {
        var lines = new List<string>();
        var ready = true;
        var published = area.PublishedRoot();
        lines.Add(published is null ? "published: nothing yet" : $"published: root v{published.Version}, targets v{area.PublishedTargets()?.Version}");
        var current = area.CurrentRoot();
        if (area.StagedRole(TufMetadata.Root) is { } root)
        {
            var own = current.CountValidSignatures(TufMetadata.Root, root);
            var line = $"staged root v{root.Version}: {own}/{current.Roles[TufMetadata.Root].Threshold} signatures of its own root keys";
            ready &= own >= current.Roles[TufMetadata.Root].Threshold;
            if (published is not null)
            {
                var old = published.CountValidSignatures(TufMetadata.Root, root);
                line += $", {old}/{published.Roles[TufMetadata.Root].Threshold} of root v{published.Version}'s";
                ready &= old >= published.Roles[TufMetadata.Root].Threshold;
            }

            lines.Add(line);
        }

        if (area.StagedRole(TufMetadata.Targets) is { } targets)
        {
            var count = current.CountValidSignatures(TufMetadata.Targets, targets);
            lines.Add($"staged targets v{targets.Version}: {count}/{current.Roles[TufMetadata.Targets].Threshold} signatures, {TufDocuments.TargetFiles(targets).Count} target(s), expires {TufMetadata.FormatExpires(targets.Expires)}");
            ready &= count >= current.Roles[TufMetadata.Targets].Threshold;
        }

        if (area.StagedRole(TufMetadata.Root) is null && area.StagedRole(TufMetadata.Targets) is null)
        {
            lines.Add("nothing staged");
            ready = false;
        }

        return (ready, lines);
    }

    private static Command Publish(CliHost host)
    {
        var repo = RepoOption();
        var server = new Option<string?>("--server") { HelpName = "URL", Description = "The log service base URL [env: REKOR_URL]." };
        var tokenFile = new Option<string?>("--token-file") { HelpName = "FILE", Description = "File holding the admin token (the service's Tuf:AdminTokenFile) [env: TLOG_TUF_TOKEN_FILE]." };
        var command = new Command(
            "publish",
            "Send the staged root and/or targets with their new target files to the service, which validates the whole version " +
            "(signatures and thresholds, versions, expiry, target bytes, Sigstore rules), then signs snapshot and timestamp and commits " +
            "everything in one transaction. A refusal prints the reason and changes nothing.\n\nExample:\n  tlog tuf publish --server http://127.0.0.1:3000 --token-file .data/keys/tuf/admin-token");
        CommandActions.AddOptions(command, repo, server, tokenFile);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var area = new TufStagingArea(parseResult.GetRequiredValue(repo));
            var root = area.StagedRole(TufMetadata.Root);
            var targets = area.StagedRole(TufMetadata.Targets);
            if (root is null && targets is null)
            {
                reporter.Line("Nothing staged; nothing published");
                reporter.Result(new JsonObject { ["ok"] = true, ["published"] = false });
                return ExitCodes.Success;
            }

            var baseUrl = CommandActions.Required(CommandActions.FlagOrEnv(parseResult, server, host, "REKOR_URL"), "no server: pass --server or set REKOR_URL");
            var tokenPath = CommandActions.Required(CommandActions.FlagOrEnv(parseResult, tokenFile, host, "TLOG_TUF_TOKEN_FILE"), "no admin token: pass --token-file or set TLOG_TUF_TOKEN_FILE");
            var token = CommandActions.ReadInputFile(tokenPath, "token file").Trim();
            var body = new JsonObject();
            if (root is not null)
            {
                body["root"] = Convert.ToBase64String(root.ToBytes());
            }

            var files = new JsonObject();
            if (targets is not null)
            {
                body["targets"] = Convert.ToBase64String(targets.ToBytes());
                var published = area.PublishedTargets() is { } p ? TufDocuments.TargetFiles(p) : [];
                foreach (var (name, file) in TufDocuments.TargetFiles(targets))
                {
                    if (!published.TryGetValue(name, out var before) || before.Sha256 != file.Sha256)
                    {
                        files[name] = Convert.ToBase64String(CommandActions.ReadInputBytes(Path.Combine(area.TargetsDirectory, name), "target file"));
                    }
                }
            }

            body["files"] = files;
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(baseUrl.TrimEnd('/') + "/"), "tuf/admin/publish"))
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            // Sent once (not retried on 503/429 like the other service calls): a publish is not repeated behind the holder's back.
            var (status, text, response) = await ServiceCall.SendAsync(host.Context.Http, request, "the log service", cancellationToken, repeatable: false);
            response.Dispose();
            JsonNode? answer = null;
            try
            {
                answer = text.Length is > 0 and < 65536 ? JsonNode.Parse(text) : null;
            }
            catch (System.Text.Json.JsonException)
            {
            }

            if ((int)status is < 200 or >= 300)
            {
                var reason = answer?["message"]?.GetValue<string>() ?? $"HTTP {(int)status}";
                throw new CliException(ExitCodes.Error, $"the service refused the publish: {reason}", "TUF_" + (answer?["code"]?.GetValue<string>() ?? "refused").ToUpperInvariant());
            }

            area.MarkPublished();
            reporter.Line($"Published: root v{answer?["root"]}, targets v{answer?["targets"]}, snapshot v{answer?["snapshot"]}, timestamp v{answer?["timestamp"]}");
            reporter.Result(new JsonObject { ["ok"] = true, ["published"] = true, ["versions"] = answer?.DeepClone() });
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Verify(CliHost host)
    {
        var mirror = new Option<string>("--mirror") { Required = true, HelpName = "URL", Description = "The mirror, e.g. <REKOR_URL>/tuf." };
        var rootFile = new Option<string>("--root") { Required = true, HelpName = "FILE", Description = "A trusted root.json (e.g. 1.root.json from the ceremony)." };
        var at = new Option<string?>("--at") { HelpName = "TIME", Description = "Reference time (RFC 3339; default now): check that nothing expires before it." };
        var command = new Command(
            "verify",
            "Run the full TUF client workflow against a mirror from a fresh cache and download every target: what a client would accept.\n\n" +
            "Example:\n  tlog tuf verify --mirror http://127.0.0.1:3000/tuf --root ceremony/metadata/1.root.json --at 2030-01-01T00:00:00Z");
        CommandActions.AddOptions(command, mirror, rootFile, at);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var when = host.Context.Time.GetUtcNow();
            if (parseResult.GetValue(at) is { } text && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out when))
            {
                throw new CliException(ExitCodes.Usage, "--at must be an RFC 3339 time");
            }

            var cache = Directory.CreateTempSubdirectory("tlog-tuf-verify-").FullName;
            try
            {
                TufUpdater.Bootstrap(cache, CommandActions.ReadInputBytes(parseResult.GetRequiredValue(rootFile), "root"));
                var updater = new TufUpdater(host.Context.Http, ParseMirror(parseResult.GetRequiredValue(mirror)), cache);
                var state = await updater.RefreshAsync(when, cancellationToken);
                foreach (var name in state.TargetFiles.Keys)
                {
                    await updater.GetTargetAsync(state, name, cancellationToken);
                }

                reporter.Line($"Verified: root v{state.Root.Version}, timestamp v{state.Timestamp.Version}, snapshot v{state.Snapshot.Version}, targets v{state.Targets.Version} ({state.TargetFiles.Count} target(s)) at {TufMetadata.FormatExpires(when)}");
                reporter.Result(new JsonObject { ["ok"] = true, ["root"] = state.Root.Version, ["targets"] = state.Targets.Version, ["timestamp"] = state.Timestamp.Version });
                return ExitCodes.Success;
            }
            catch (TufException ex)
            {
                throw new CliException(ExitCodes.VerificationFailed, $"the mirror was refused ({ex.Code}): {ex.Message}", "TUF_" + ex.Code.ToUpperInvariant());
            }
            finally
            {
                Directory.Delete(cache, recursive: true);
            }
        });
        return command;
    }

    public static Command Initialize(CliHost host)
    {
        var mirror = new Option<string>("--mirror") { Required = true, HelpName = "URL", Description = "The TUF mirror [e.g. $TUF_MIRROR]." };
        var rootFile = new Option<string>("--root") { Required = true, HelpName = "FILE", Description = "The initial trusted root.json [e.g. $TUF_ROOT_JSON]." };
        var command = new Command(
            "initialize",
            "Trust a TUF mirror, as cosign initialize does: caches the root, refreshes the repository and its trusted_root.json and " +
            "signing_config.v0.2.json under $TLOG_TUF_CACHE (default ~/.config/tlog/tuf). Afterwards verify commands take their trusted " +
            "root from TUF (--trusted-root and TLOG_TRUSTED_ROOT still override) and signing commands their services from the signing config.\n\n" +
            "Example:\n  tlog initialize --mirror \"$TUF_MIRROR\" --root \"$TUF_ROOT_JSON\"");
        command.Options.Add(mirror);
        command.Options.Add(rootFile);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var url = ParseMirror(parseResult.GetRequiredValue(mirror));
            var root = CommandActions.ReadInputBytes(parseResult.GetRequiredValue(rootFile), "root");
            try
            {
                var state = await TufClientCache.InitializeAsync(host, url, root, cancellationToken);
                reporter.Line($"Initialized from {url}: root v{state.Root.Version}, targets v{state.Targets.Version}: {string.Join(", ", state.TargetFiles.Keys)}");
                reporter.Result(new JsonObject { ["ok"] = true, ["mirror"] = url.ToString(), ["root"] = state.Root.Version, ["targets"] = state.Targets.Version });
                return ExitCodes.Success;
            }
            catch (TufException ex)
            {
                throw new CliException(ExitCodes.Error, $"the mirror was refused ({ex.Code}): {ex.Message}", "TUF_" + ex.Code.ToUpperInvariant());
            }
        });
        return command;
    }

    private static Uri ParseMirror(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new CliException(ExitCodes.Usage, "--mirror must be an http(s) URL");
}
