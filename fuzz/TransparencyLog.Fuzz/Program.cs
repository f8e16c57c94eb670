using SharpFuzz;
using TransparencyLog.Fuzz;

// Usage:
//   TransparencyLog.Fuzz TARGET            run TARGET under afl-fuzz (SharpFuzz fork server; once on stdin otherwise)
//   TransparencyLog.Fuzz --replay TARGET FILE...   run TARGET on each file and name the ones that crash (exit 1 if any)
//   TransparencyLog.Fuzz --list             the targets, one per line: name, tab, what it parses
//   TransparencyLog.Fuzz --seeds DIR ROOTS  write the seed corpus under DIR/<target>/ and the CT roots to ROOTS
if (args is ["--list"])
{
    foreach (var target in FuzzTargets.All)
    {
        Console.WriteLine($"{target.Name}\t{target.Description}");
    }

    return 0;
}

if (args is ["--seeds", var directory, var roots])
{
    SeedCorpus.Write(directory, roots);
    return 0;
}

if (args is ["--replay", var replayName, .. var files] && FuzzTargets.Find(replayName) is { } replayed)
{
    var crashes = 0;
    foreach (var file in files)
    {
        try
        {
            replayed.Parse(File.ReadAllBytes(file));
            Console.WriteLine($"{file}: accepted");
        }
        catch (Exception e) when (replayed.IsExpected(e))
        {
            Console.WriteLine($"{file}: refused ({e.GetType().Name}: {e.Message})");
        }
        catch (Exception e)
        {
            crashes++;
            Console.WriteLine($"{file}: CRASH {e.GetType().FullName}: {e.Message}");
            Console.WriteLine(e.StackTrace);
        }
    }

    Console.WriteLine($"{replayName}: {files.Length} inputs, {crashes} crashes");
    return crashes == 0 ? 0 : 1;
}

if (args is [var name] && FuzzTargets.Find(name) is { } fuzzed)
{
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        fuzzed.Run(buffer.ToArray());
    });
    return 0;
}

Console.Error.WriteLine("usage: TransparencyLog.Fuzz TARGET | --replay TARGET FILE... | --list | --seeds DIR ROOTS");
return 2;
