using Leasehold.Server;

LeaseholdApp.Build(args).Run();
