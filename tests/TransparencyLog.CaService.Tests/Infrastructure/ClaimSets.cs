namespace TransparencyLog.CaService.Tests.Infrastructure;

/// <summary>Valid CI claims per issuer type, with the values of certificate-authority.md §2.2.</summary>
public static class ClaimSets
{
    public static Dictionary<string, object?> Github() => new()
    {
        ["sub"] = "repo:octo-org/octo-repo:ref:refs/heads/main",
        ["job_workflow_ref"] = "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
        ["job_workflow_sha"] = "1111111111111111111111111111111111111111",
        ["sha"] = "2222222222222222222222222222222222222222",
        ["event_name"] = "push",
        ["repository"] = "octo-org/octo-repo",
        ["workflow"] = "Release",
        ["ref"] = "refs/heads/main",
        ["runner_environment"] = "github-hosted",
        ["repository_id"] = "123456",
        ["repository_owner"] = "octo-org",
        ["repository_owner_id"] = "7890",
        ["repository_visibility"] = "public",
        ["workflow_ref"] = "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
        ["workflow_sha"] = "3333333333333333333333333333333333333333",
        ["run_id"] = "42",
        ["run_attempt"] = "1",
        ["environment"] = "production",
    };

    public static Dictionary<string, object?> Gitlab() => new()
    {
        ["sub"] = "project_path:group/project:ref_type:branch:ref:main",
        ["project_path"] = "group/project",
        ["pipeline_source"] = "push",
        ["pipeline_id"] = "1001",
        ["ci_config_ref_uri"] = "gitlab.example.com/group/project//.gitlab-ci.yml@refs/heads/main",
        ["ci_config_sha"] = "4444444444444444444444444444444444444444",
        ["job_id"] = "2002",
        ["ref"] = "main",
        ["ref_type"] = "branch",
        ["namespace_path"] = "group",
        ["namespace_id"] = "55",
        ["project_id"] = "66",
        ["sha"] = "5555555555555555555555555555555555555555",
        ["runner_environment"] = "gitlab-hosted",
        ["runner_id"] = 77,
        ["project_visibility"] = "private",
    };

    public static Dictionary<string, object?> Buildkite() => new()
    {
        ["sub"] = "organization:acme:pipeline:widgets:ref:refs/heads/main:commit:abc:step:build",
        ["organization_slug"] = "acme",
        ["pipeline_slug"] = "widgets",
    };

    public static Dictionary<string, object?> Kubernetes() => new()
    {
        ["sub"] = "system:serviceaccount:prod:signer",
        ["kubernetes.io"] = new Dictionary<string, object?>
        {
            ["namespace"] = "prod",
            ["serviceaccount"] = new Dictionary<string, object?> { ["name"] = "signer", ["uid"] = "0b6c" },
        },
    };

    public static Dictionary<string, object?> CiProvider() => new()
    {
        ["sub"] = "pipeline:widgets",
        ["pipeline"] = "widgets",
        ["runner"] = "self-hosted",
        ["commit"] = "6666666666666666666666666666666666666666",
    };
}
