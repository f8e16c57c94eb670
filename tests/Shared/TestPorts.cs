using System.Net;
using System.Net.Sockets;

namespace TransparencyLog.Tests.Shared;

/// <summary>
/// Loopback ports for servers a test starts later, often in another process. They come from below Linux's ephemeral
/// range (32768 and up), which is where every bind to port 0 lands, so an in-process server binding port 0 can never
/// take a port already handed to a child process that has not bound it yet. A lock file per port (an advisory lock
/// held for the life of the test process) keeps test processes running in parallel from picking the same one.
/// </summary>
internal static class TestPorts
{
    private const int First = 20000;
    private const int Last = 32000;
    private static readonly Lock Gate = new();
    private static readonly List<FileStream> Claims = [];

    public static int Next()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tlog-test-ports");
        Directory.CreateDirectory(directory);
        for (var attempt = 0; attempt < 2000; attempt++)
        {
            var port = Random.Shared.Next(First, Last);
            FileStream claim;
            try
            {
                claim = new FileStream(Path.Combine(directory, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                continue;
            }

            if (!IsFree(port))
            {
                claim.Dispose();
                continue;
            }

            lock (Gate)
            {
                Claims.Add(claim);
            }

            return port;
        }

        throw new InvalidOperationException($"no free loopback port between {First} and {Last}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
