using TransparencyLog.Cli.Hosting;

return await TlogApp.RunAsync(args, Console.Out, Console.Error);
