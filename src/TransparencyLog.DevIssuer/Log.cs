namespace TransparencyLog.DevIssuer;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "DEVELOPMENT OIDC ISSUER at {IssuerUrl}: NOT FOR PRODUCTION. It mints a token for any identity to anyone who can reach it.")]
    public static partial void DevelopmentIssuerStarted(ILogger logger, string issuerUrl);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Minted a token for sub {Subject}, aud {Audience}, ttl {TtlSeconds} s")]
    public static partial void TokenMinted(ILogger logger, string subject, string audience, int ttlSeconds);
}
