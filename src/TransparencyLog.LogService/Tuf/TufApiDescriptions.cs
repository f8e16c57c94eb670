using TransparencyLog.Hosting;

namespace TransparencyLog.LogService.Tuf;

/// <summary>OpenAPI descriptions of the TUF routes.</summary>
internal static class TufApiDescriptions
{
    private const string Json = "application/json";

    public static readonly ApiOperation[] Operations =
    [
        new("GET", "/tuf/{file}", "getTufMetadata", "A TUF metadata file",
            "N.root.json (every version, kept forever), root.json (the latest), timestamp.json (no-store), N.snapshot.json and N.targets.json (immutable).",
            [new(200, "The metadata file, byte for byte as published.", Json), new(404, "No such file or version (clients stop their root updates at the first 404).")]),
        new("GET", "/tuf/targets/{file}", "getTufTarget", "A TUF target file by hash",
            "targets/<sha256>.<name> as the consistent snapshot lists it (immutable).",
            [new(200, "The target file.", "application/octet-stream"), new(404, "No such target.")]),
        new("POST", "/tuf/admin/publish", "publishTufVersion", "Publish a new repository version",
            "Takes a new root and/or targets signed offline and the target files they list (base64 JSON); validates the whole version, then signs snapshot and timestamp and commits all of it in one transaction. Needs the admin bearer token (Tuf:AdminTokenFile).",
            [
                new(200, "Published: the versions now served.", Json, typeof(TufPublishResult)),
                new(400, "The body is not the publish request shape.", Json, typeof(TufProblem)),
                new(401, "Missing or wrong admin token."),
                new(413, "The body exceeds Tuf:MaxPublishBytes.", Json, typeof(TufProblem)),
                new(422, "Refused with the reason (bad signature, threshold not met, version not increasing, expiring role, target mismatch, ...); nothing changed.", Json, typeof(TufProblem)),
                new(503, "The database is unavailable.", Json, typeof(TufProblem)),
            ]),
    ];
}
