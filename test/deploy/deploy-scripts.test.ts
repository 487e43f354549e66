import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, callsTo, flagValue, indexOfCall, runScript } from './deploy-harness.js';
import type { Call, Rule, ScriptRun } from './deploy-harness.js';

// Every deploy script runs for real (bash, set -euo pipefail) against fake gcloud/bq/git that log
// their arguments and answer from the rules below; nothing leaves the machine and nothing sleeps.

const PROJECT = 'demo-proj';
const SHA = 'abc1234';
const IMAGE_PATH = `us-central1-docker.pkg.dev/${PROJECT}/polycopy/polycopy-backfill`;
const RUNNER = `serviceAccount:polycopy-backfill@${PROJECT}.iam.gserviceaccount.com`;
const SCHEDULER = `serviceAccount:polycopy-scheduler@${PROJECT}.iam.gserviceaccount.com`;
const DEFAULT_BUILD_SA = '123456789-compute@developer.gserviceaccount.com';

function gitTree(dirty: boolean): Rule[] {
  return [
    { tool: 'git', match: ['rev-parse --short HEAD'], stdout: `${SHA}\n` },
    { tool: 'git', match: ['status --porcelain'], stdout: dirty ? ' M src/cli/main.ts\n' : '' },
    { tool: 'git', match: ['status --short'], stdout: dirty ? ' M src/cli/main.ts\n' : '' },
  ];
}

/** A project where nothing of ours exists yet (the first deploy). */
const EMPTY_PROJECT: Rule[] = [
  ...gitTree(false),
  { tool: 'bq', match: ['show --dataset'], exit: 2, stderr: `BigQuery error in show operation: Not found: Dataset ${PROJECT}:polycopy\n` },
  { tool: 'gcloud', match: ['storage buckets describe'], exit: 1, stderr: 'ERROR: (gcloud.storage.buckets.describe) gs://x not found: 404.\n' },
  { tool: 'gcloud', match: ['iam service-accounts describe'], exit: 1, stderr: 'ERROR: NOT_FOUND: Unknown service account\n' },
  { tool: 'gcloud', match: ['artifacts docker images describe'], exit: 1, stderr: 'ERROR: (gcloud.artifacts.docker.images.describe) Image not found.\n' },
  { tool: 'gcloud', match: ['artifacts repositories describe'], exit: 1, stderr: 'ERROR: NOT_FOUND\n' },
  { tool: 'gcloud', match: ['builds get-default-service-account'], stdout: `projects/${PROJECT}/serviceAccounts/${DEFAULT_BUILD_SA}\n` },
  {
    tool: 'gcloud',
    match: ['storage buckets remove-iam-policy-binding'],
    exit: 1,
    stderr: 'ERROR: Policy binding with the specified principal, role, and condition not found!\n',
  },
  { tool: 'gcloud', match: ['scheduler jobs describe'], exit: 1, stderr: 'ERROR: NOT_FOUND\n' },
  { tool: 'gcloud', match: ['logging metrics describe'], exit: 1, stderr: 'ERROR: NOT_FOUND\n' },
];

/** A project where everything exists: a redeploy (dataset in US, bucket in us-central1). */
const DEPLOYED_PROJECT: Rule[] = [
  ...gitTree(false),
  { tool: 'bq', match: ['--format=json show --dataset'], stdout: `{"kind":"bigquery#dataset","id":"${PROJECT}:polycopy","location":"US"}\n` },
  { tool: 'gcloud', match: ['storage buckets describe', 'value(location,location_type,data_locations)'], stdout: 'US-CENTRAL1\tregion\t\n' },
  { tool: 'gcloud', match: ['artifacts docker images describe'], exit: 1, stderr: 'ERROR: Image not found.\n' },
  { tool: 'gcloud', match: ['builds get-default-service-account'], stdout: `projects/${PROJECT}/serviceAccounts/${DEFAULT_BUILD_SA}\n` },
  { tool: 'gcloud', match: ['monitoring policies list --project'], stdout: `projects/${PROJECT}/alertPolicies/123\n` },
];

function args(call: Call | undefined): string {
  expect(call, 'expected call was not made').toBeDefined();
  return call!.argv.join(' ');
}

function only(run: ScriptRun, tool: 'gcloud' | 'bq', ...match: string[]): Call {
  const calls = callsTo(run, tool, ...match);
  expect(calls, `${tool} ${match.join(' ')}`).toHaveLength(1);
  return calls[0]!;
}

function expectOk(run: ScriptRun): void {
  expect(run.code, `stderr:\n${run.stderr}`).toBe(0);
}

describe.concurrent('deploy-all.sh', () => {
  it('deploys an empty project in order: APIs, bucket and dataset, accounts, image, job, schedule, alerts', async () => {
    const run = await runScript('deploy-all.sh', EMPTY_PROJECT);
    expectOk(run);
    const order = [
      indexOfCall(run, 'gcloud', 'services enable'),
      indexOfCall(run, 'gcloud', 'storage buckets create', `gs://${PROJECT}-polycopy-stage`),
      indexOfCall(run, 'bq', 'mk --dataset'),
      indexOfCall(run, 'gcloud', 'iam service-accounts create', 'polycopy-backfill'),
      indexOfCall(run, 'bq', 'GRANT `roles/bigquery.dataEditor`'),
      indexOfCall(run, 'gcloud', 'builds submit'),
      indexOfCall(run, 'gcloud', 'run jobs deploy'),
      indexOfCall(run, 'gcloud', 'scheduler jobs create http'),
      indexOfCall(run, 'gcloud', 'logging metrics create'),
      indexOfCall(run, 'gcloud', 'monitoring policies create'),
    ];
    expect(order.every((i) => i >= 0), JSON.stringify(order)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(run.stdout).toContain(`deployed ${IMAGE_PATH}:${SHA} as job polycopy-backfill`);
  });

  it('enables the APIs every step needs, logging and monitoring included', async () => {
    const run = await runScript('00-enable-apis.sh', EMPTY_PROJECT);
    expectOk(run);
    const enable = only(run, 'gcloud', 'services enable');
    for (const api of ['run', 'cloudscheduler', 'artifactregistry', 'cloudbuild', 'bigquery', 'storage', 'iam', 'logging', 'monitoring']) {
      expect(enable.argv).toContain(`${api}.googleapis.com`);
    }
  });

  it('refuses a dirty work tree before touching the project', async () => {
    const run = await runScript('deploy-all.sh', [...gitTree(true), ...EMPTY_PROJECT]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('uncommitted changes');
    expect(run.stderr).toContain('ALLOW_DIRTY=1');
    expect(run.calls.filter((c) => c.tool !== 'git')).toEqual([]);
  });
});

describe.concurrent('timing derives from INTERVAL_MINUTES (40-cloud-run-job.sh, 50-scheduler.sh)', () => {
  it('runs `backfill run --refresh` with schedule exit codes, a 28m task timeout and a 24m max runtime by default', async () => {
    const run = await runScript('40-cloud-run-job.sh', DEPLOYED_PROJECT);
    expectOk(run);
    const deploy = only(run, 'gcloud', 'run jobs deploy');
    expect(flagValue(deploy, '--image')).toBe(`${IMAGE_PATH}:${SHA}`);
    expect(flagValue(deploy, '--service-account')).toBe(`polycopy-backfill@${PROJECT}.iam.gserviceaccount.com`);
    expect(flagValue(deploy, '--task-timeout')).toBe('28m');
    expect(flagValue(deploy, '--max-retries')).toBe('0');
    expect(flagValue(deploy, '--args')).toBe('run,--refresh,--max-runtime=24m,--commit-every=200,--commit-interval=60s');
    const env = flagValue(deploy, '--set-env-vars')!;
    expect(env.startsWith('^@^')).toBe(true);
    expect(env.slice(3).split('@')).toEqual([
      `BACKFILL_WAREHOUSE=bigquery://${PROJECT}/polycopy?location=US&maximumBytesBilled=10000000000`,
      `BACKFILL_STAGE=gs://${PROJECT}-polycopy-stage/stage`,
      'BACKFILL_LOG_LEVEL=info',
      'BACKFILL_EXIT_CODES=schedule',
    ]);
  });

  it('with SKIP_LOCATION_CHECK=1 the job skips the run\'s start-up location check too', async () => {
    const run = await runScript('40-cloud-run-job.sh', DEPLOYED_PROJECT, { SKIP_LOCATION_CHECK: '1' });
    expectOk(run);
    expect(run.stderr).toContain('SKIP_LOCATION_CHECK=1: not checking');
    expect(flagValue(only(run, 'gcloud', 'run jobs deploy'), '--set-env-vars')!.slice(3).split('@')).toContain('BACKFILL_SKIP_LOCATION_CHECK=1');
  });

  it('starts the job every 30 minutes through the scheduler account, which may only invoke it', async () => {
    const run = await runScript('50-scheduler.sh', [
      { tool: 'gcloud', match: ['scheduler jobs describe'], exit: 1, stderr: 'NOT_FOUND\n' },
      ...DEPLOYED_PROJECT,
    ]);
    expectOk(run);
    const invoker = only(run, 'gcloud', 'run jobs add-iam-policy-binding polycopy-backfill');
    expect(flagValue(invoker, '--member')).toBe(SCHEDULER);
    expect(flagValue(invoker, '--role')).toBe('roles/run.invoker');
    const create = only(run, 'gcloud', 'scheduler jobs create http polycopy-backfill-schedule');
    expect(flagValue(create, '--schedule')).toBe('*/30 * * * *');
    expect(flagValue(create, '--uri')).toBe(
      `https://run.googleapis.com/v2/projects/${PROJECT}/locations/us-central1/jobs/polycopy-backfill:run`,
    );
    expect(flagValue(create, '--oauth-service-account-email')).toBe(`polycopy-scheduler@${PROJECT}.iam.gserviceaccount.com`);
    expect(callsTo(run, 'gcloud', 'scheduler jobs delete')).toEqual([]);
  });

  it('updates the existing Scheduler job and removes the legacy JOB-every-30m one, which would start executions twice', async () => {
    const run = await runScript('50-scheduler.sh', DEPLOYED_PROJECT);
    expectOk(run);
    expect(args(only(run, 'gcloud', 'scheduler jobs delete'))).toContain('polycopy-backfill-every-30m');
    expect(callsTo(run, 'gcloud', 'scheduler jobs update http polycopy-backfill-schedule')).toHaveLength(1);
    expect(callsTo(run, 'gcloud', 'scheduler jobs create')).toEqual([]);
  });

  it('derives an hourly schedule, a 58m timeout and a 54m max runtime from INTERVAL_MINUTES=60', async () => {
    const job = await runScript('40-cloud-run-job.sh', DEPLOYED_PROJECT, { INTERVAL_MINUTES: '60' });
    expectOk(job);
    const deploy = only(job, 'gcloud', 'run jobs deploy');
    expect(flagValue(deploy, '--task-timeout')).toBe('58m');
    expect(flagValue(deploy, '--args')).toContain('--max-runtime=54m,');
    const schedule = await runScript('50-scheduler.sh', DEPLOYED_PROJECT, { INTERVAL_MINUTES: '60' });
    expectOk(schedule);
    expect(flagValue(only(schedule, 'gcloud', 'scheduler jobs update http'), '--schedule')).toBe('0 */1 * * *');
  });

  it('keeps each derived value overridable, and derives MAX_RUNTIME from an overridden TASK_TIMEOUT', async () => {
    const run = await runScript('40-cloud-run-job.sh', DEPLOYED_PROJECT, { TASK_TIMEOUT: '20m' });
    expectOk(run);
    const deploy = only(run, 'gcloud', 'run jobs deploy');
    expect(flagValue(deploy, '--task-timeout')).toBe('20m');
    expect(flagValue(deploy, '--args')).toContain('--max-runtime=16m,');
    const explicit = await runScript('40-cloud-run-job.sh', DEPLOYED_PROJECT, { MAX_RUNTIME: '10m' });
    expect(flagValue(only(explicit, 'gcloud', 'run jobs deploy'), '--args')).toContain('--max-runtime=10m,');
  });

  it('refuses a MAX_RUNTIME that does not leave the final commit inside the task timeout, and odd intervals', async () => {
    const tooLong = await runScript('40-cloud-run-job.sh', DEPLOYED_PROJECT, { MAX_RUNTIME: '28m' });
    expect(tooLong.code).toBe(64);
    expect(tooLong.stderr).toContain('shorter than TASK_TIMEOUT=28m');
    const odd = await runScript('50-scheduler.sh', DEPLOYED_PROJECT, { INTERVAL_MINUTES: '25' });
    expect(odd.code).toBe(64);
    expect(odd.stderr).toContain('not a cron step');
    const short = await runScript('50-scheduler.sh', DEPLOYED_PROJECT, { INTERVAL_MINUTES: '5' });
    expect(short.code).toBe(64);
    expect(run(short)).toEqual([]);
    function run(r: ScriptRun): Call[] {
      return r.calls.filter((c) => c.tool !== 'git');
    }
  });
});

describe.concurrent('IAM bindings are retried (20-service-accounts.sh)', () => {
  it('grants the runner objectUser and legacyBucketReader on the bucket, dataEditor on the dataset, jobUser on the project', async () => {
    const run = await runScript('20-service-accounts.sh', EMPTY_PROJECT);
    expectOk(run);
    expect(callsTo(run, 'gcloud', 'iam service-accounts create')).toHaveLength(2);
    const bucketRoles = callsTo(run, 'gcloud', 'storage buckets add-iam-policy-binding', `gs://${PROJECT}-polycopy-stage`).map((c) => [
      flagValue(c, '--member'),
      flagValue(c, '--role'),
    ]);
    expect(bucketRoles).toEqual([
      [RUNNER, 'roles/storage.objectUser'],
      [RUNNER, 'roles/storage.legacyBucketReader'],
    ]);
    expect(callsTo(run, 'gcloud', 'add-iam-policy-binding', 'roles/storage.objectAdmin')).toEqual([]);
    const removed = only(run, 'gcloud', 'storage buckets remove-iam-policy-binding');
    expect(flagValue(removed, '--role')).toBe('roles/storage.objectAdmin');
    expect(args(only(run, 'bq', 'GRANT'))).toContain(
      `GRANT \`roles/bigquery.dataEditor\` ON SCHEMA \`${PROJECT}.polycopy\` TO "${RUNNER}"`,
    );
    const jobUser = only(run, 'gcloud', 'projects add-iam-policy-binding');
    expect(flagValue(jobUser, '--role')).toBe('roles/bigquery.jobUser');
    expect(flagValue(jobUser, '--member')).toBe(RUNNER);
  });

  it('retries a binding that first fails with "does not exist" (a just-created account) and goes on', async () => {
    const run = await runScript('20-service-accounts.sh', [
      {
        tool: 'gcloud',
        match: ['storage buckets add-iam-policy-binding', 'roles/storage.objectUser'],
        times: 1,
        exit: 1,
        stderr: `ERROR: HTTPError 400: Service account polycopy-backfill@${PROJECT}.iam.gserviceaccount.com does not exist.\n`,
      },
      {
        tool: 'bq',
        match: ['GRANT'],
        times: 1,
        exit: 1,
        stderr: 'BigQuery error in query operation: Error processing job: User does not exist.\n',
      },
      ...EMPTY_PROJECT,
    ]);
    expectOk(run);
    expect(callsTo(run, 'gcloud', 'storage buckets add-iam-policy-binding', 'roles/storage.objectUser')).toHaveLength(2);
    expect(callsTo(run, 'bq', 'GRANT')).toHaveLength(2);
    expect(run.stderr).toContain('attempt 1/6 failed (ERROR: HTTPError 400: Service account');
    expect(run.stderr).toContain('retrying in 2s');
    expect(callsTo(run, 'gcloud', 'projects add-iam-policy-binding', 'roles/bigquery.jobUser')).toHaveLength(1);
  });

  it('gives up after 6 attempts, backing off 2, 4, 8, 16 and 32 s, and stops the deploy', async () => {
    const run = await runScript('20-service-accounts.sh', [
      { tool: 'gcloud', match: ['projects add-iam-policy-binding'], exit: 1, stderr: 'ERROR: PERMISSION_DENIED\n' },
      ...EMPTY_PROJECT,
    ]);
    expect(run.code).toBe(1);
    expect(callsTo(run, 'gcloud', 'projects add-iam-policy-binding')).toHaveLength(6);
    const waits = [...run.stderr.matchAll(/retrying in (\d+)s/g)].map((m) => Number(m[1]));
    expect(waits).toEqual([2, 4, 8, 16, 32]);
    expect(run.stderr).toContain('gave up after 6 attempts');
  });
});

describe.concurrent('locations (10-bucket-and-dataset.sh, 40-cloud-run-job.sh)', () => {
  it('refuses an EU dataset with a us-central1 bucket before anything is created', async () => {
    const run = await runScript('deploy-all.sh', EMPTY_PROJECT, { BQ_LOCATION: 'EU' });
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('location mismatch');
    expect(run.stderr).toContain(`bucket gs://${PROJECT}-polycopy-stage is to be created in us-central1`);
    expect(run.stderr).toContain('is to be created in EU');
    expect(callsTo(run, 'gcloud', 'storage buckets create')).toEqual([]);
    expect(callsTo(run, 'bq', 'mk')).toEqual([]);
    expect(callsTo(run, 'gcloud', 'iam service-accounts create')).toEqual([]);
  });

  it('refuses an existing EU dataset with an existing us-central1 bucket before deploying the job', async () => {
    const run = await runScript('40-cloud-run-job.sh', [
      { tool: 'bq', match: ['--format=json show --dataset'], stdout: `{"id":"${PROJECT}:polycopy","location":"EU"}\n` },
      ...DEPLOYED_PROJECT,
    ], { BQ_LOCATION: 'EU' });
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('bucket gs://demo-proj-polycopy-stage is in US-CENTRAL1 (region)');
    expect(run.stderr).toContain(`dataset ${PROJECT}:polycopy is in EU`);
    expect(callsTo(run, 'gcloud', 'run jobs deploy')).toEqual([]);
  });

  it('refuses an existing dataset that is not where BQ_LOCATION says', async () => {
    const run = await runScript('10-bucket-and-dataset.sh', [
      { tool: 'bq', match: ['--format=json show --dataset'], stdout: `{"location":"asia-northeast1"}\n` },
      ...DEPLOYED_PROJECT,
    ]);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('but BQ_LOCATION is US');
  });

  it('skips the check only when SKIP_LOCATION_CHECK=1 says so, and says that it did', async () => {
    const run = await runScript('10-bucket-and-dataset.sh', EMPTY_PROJECT, { BQ_LOCATION: 'EU', SKIP_LOCATION_CHECK: '1' });
    expectOk(run);
    expect(run.stderr).toContain('SKIP_LOCATION_CHECK=1: not checking');
    expect(callsTo(run, 'gcloud', 'storage buckets create')).toHaveLength(1);
  });

  it('creates an EU bucket for an EU dataset when BUCKET_LOCATION says so', async () => {
    const run = await runScript('10-bucket-and-dataset.sh', EMPTY_PROJECT, { BQ_LOCATION: 'EU', BUCKET_LOCATION: 'europe-west1' });
    expectOk(run);
    expect(flagValue(only(run, 'gcloud', 'storage buckets create'), '--location')).toBe('europe-west1');
    expect(args(only(run, 'bq', 'mk --dataset'))).toContain('--location=EU');
  });

  it('accepts a bucket only inside the dataset location (US ⊃ us-*, EU ⊃ europe-*, a region = itself)', () => {
    const cases: [dataset: string, bucket: string, type: string, dataLocations: string, loadable: boolean][] = [
      ['US', 'US-CENTRAL1', 'region', '', true],
      ['US', 'US', 'multi-region', '', true],
      ['US', 'NAM4', 'dual-region', '', true],
      ['US', 'US', 'dual-region', 'US-EAST1;US-EAST4', true],
      ['US', 'EUROPE-WEST1', 'region', '', false],
      ['US', 'ASIA1', 'dual-region', '', false],
      ['EU', 'EUROPE-WEST4', 'region', '', true],
      ['EU', 'EU', 'multi-region', '', true],
      ['EU', 'EUR4', 'dual-region', '', true],
      ['EU', 'EU', 'dual-region', 'EUROPE-WEST1;US-EAST1', false],
      ['EU', 'US-CENTRAL1', 'region', '', false],
      ['EU', 'US', 'multi-region', '', false],
      ['EU', 'EUR9', 'dual-region', '', false],
      ['us-central1', 'US-CENTRAL1', 'region', '', true],
      ['us-central1', 'US', 'multi-region', '', false],
      ['us-central1', 'US-EAST1', 'region', '', false],
      ['us-central1', 'NAM4', 'dual-region', '', false],
    ];
    const script = cases
      .map(([dataset, bucket, type, dls]) => `if bucket_fits_dataset '${dataset}' '${bucket}' '${type}' '${dls}'; then echo true; else echo false; fi`)
      .join('\n');
    const result = spawnSync('bash', ['-c', `set -euo pipefail; source '${join(DEPLOY_DIR, 'lib.sh')}'\n${script}`], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const answers = result.stdout.trim().split('\n');
    expect(cases.map((c, i) => `${c.slice(0, 4).join(' ')} → ${answers[i]}`)).toEqual(
      cases.map((c) => `${c.slice(0, 4).join(' ')} → ${String(c[4])}`),
    );
  });
});

describe.concurrent('the image (30-build-push.sh)', () => {
  it('grants the default build account read of the source bucket, log writing and push to the repository only', async () => {
    const run = await runScript('30-build-push.sh', EMPTY_PROJECT);
    expectOk(run);
    expect(only(run, 'gcloud', 'builds get-default-service-account').argv).toContain('--region');
    const member = `serviceAccount:${DEFAULT_BUILD_SA}`;
    const source = only(run, 'gcloud', 'storage buckets add-iam-policy-binding', `gs://${PROJECT}_cloudbuild`);
    expect([flagValue(source, '--member'), flagValue(source, '--role')]).toEqual([member, 'roles/storage.objectViewer']);
    const logs = only(run, 'gcloud', 'projects add-iam-policy-binding', PROJECT);
    expect([flagValue(logs, '--member'), flagValue(logs, '--role')]).toEqual([member, 'roles/logging.logWriter']);
    const push = only(run, 'gcloud', 'artifacts repositories add-iam-policy-binding polycopy');
    expect([flagValue(push, '--member'), flagValue(push, '--role'), flagValue(push, '--location')]).toEqual([
      member,
      'roles/artifactregistry.writer',
      'us-central1',
    ]);
    expect(run.calls.filter((c) => c.argv.join(' ').includes(member))).toHaveLength(3);

    const submit = only(run, 'gcloud', 'builds submit');
    expect(flagValue(submit, '--service-account')).toBeUndefined();
    expect(flagValue(submit, '--gcs-source-staging-dir')).toBe(`gs://${PROJECT}_cloudbuild/source`);
    const config = JSON.parse(submit.files['--config']!) as {
      steps: { name: string; args: string[] }[];
      images: string[];
      options: { logging: string };
    };
    expect(config.steps[0]!.args).toEqual(['build', '--tag', `${IMAGE_PATH}:${SHA}`, '.']);
    expect(config.images).toEqual([`${IMAGE_PATH}:${SHA}`]);
    expect(config.options.logging).toBe('CLOUD_LOGGING_ONLY');
    // The grants come before the build that needs them.
    expect(indexOfCall(run, 'gcloud', 'artifacts repositories add-iam-policy-binding')).toBeLessThan(indexOfCall(run, 'gcloud', 'builds submit'));
  });

  it('runs the build as BUILD_SA when given, creating it and granting it instead of the default account', async () => {
    const builder = `image-builder@${PROJECT}.iam.gserviceaccount.com`;
    const run = await runScript('30-build-push.sh', EMPTY_PROJECT, { BUILD_SA: builder });
    expectOk(run);
    expect(callsTo(run, 'gcloud', 'builds get-default-service-account')).toEqual([]);
    expect(args(only(run, 'gcloud', 'iam service-accounts create'))).toContain('image-builder');
    const members = callsTo(run, 'gcloud', 'add-iam-policy-binding').map((c) => flagValue(c, '--member'));
    expect(members).toEqual([`serviceAccount:${builder}`, `serviceAccount:${builder}`, `serviceAccount:${builder}`]);
    expect(flagValue(only(run, 'gcloud', 'builds submit'), '--service-account')).toBe(`projects/${PROJECT}/serviceAccounts/${builder}`);
  });

  it('refuses to build from a dirty tree', async () => {
    const run = await runScript('30-build-push.sh', [...gitTree(true), ...EMPTY_PROJECT]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('M src/cli/main.ts');
    expect(run.stderr).toContain(`tagged with commit ${SHA}`);
    expect(callsTo(run, 'gcloud', 'builds submit')).toEqual([]);
  });

  it('builds a dirty tree with ALLOW_DIRTY=1 under a <sha>-dirty-<timestamp> tag', async () => {
    const run = await runScript('30-build-push.sh', [...gitTree(true), ...EMPTY_PROJECT], { ALLOW_DIRTY: '1' });
    expectOk(run);
    const config = JSON.parse(only(run, 'gcloud', 'builds submit').files['--config']!) as { images: string[] };
    expect(config.images[0]).toMatch(new RegExp(`^${IMAGE_PATH}:${SHA}-dirty-\\d{14}$`));
  });

  it('refuses to overwrite an existing tag, and replaces it only with FORCE_TAG=1', async () => {
    const exists: Rule = { tool: 'gcloud', match: ['artifacts docker images describe'], stdout: 'sha256:0123abcd\n' };
    const refused = await runScript('30-build-push.sh', [exists, ...EMPTY_PROJECT]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${IMAGE_PATH}:${SHA} already exists (sha256:0123abcd)`);
    expect(args(only(refused, 'gcloud', 'artifacts docker images describe'))).toContain(`${IMAGE_PATH}:${SHA}`);
    expect(callsTo(refused, 'gcloud', 'builds submit')).toEqual([]);
    expect(callsTo(refused, 'gcloud', 'add-iam-policy-binding')).toEqual([]);

    const forced = await runScript('30-build-push.sh', [exists, ...EMPTY_PROJECT], { FORCE_TAG: '1' });
    expectOk(forced);
    expect(forced.stderr).toContain('FORCE_TAG=1: replacing');
    expect(callsTo(forced, 'gcloud', 'builds submit')).toHaveLength(1);
  });

  it('does not build when it cannot tell whether the tag exists', async () => {
    const run = await runScript('30-build-push.sh', [
      { tool: 'gcloud', match: ['artifacts docker images describe'], exit: 1, stderr: 'ERROR: PERMISSION_DENIED: caller lacks artifactregistry.tags.get\n' },
      ...EMPTY_PROJECT,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('could not tell whether');
    expect(callsTo(run, 'gcloud', 'builds submit')).toEqual([]);
  });
});

describe.concurrent('run-now.sh', () => {
  const FIGURES: Rule[] = [
    { tool: 'bq', match: ['SELECT COUNT(*) as completed FROM'], stdout: '| completed |\n|     1234 |\n' },
    { tool: 'bq', match: ['SELECT wallet_address, trade_count, processed_at'], stdout: '| wallet_address | trade_count |\n| 0xabc | 0 |\n' },
    { tool: 'bq', match: ['percent_complete'], stdout: '| completed | total | percent_complete |\n| 1234 | 2000 | 61.7 |\n' },
  ];

  it('prints the outcome and the three figures after a failed execution, and exits with its status', async () => {
    const run = await runScript('run-now.sh', [
      {
        tool: 'gcloud',
        match: ['run jobs execute polycopy-backfill', '--wait'],
        exit: 1,
        stderr:
          'ERROR: (gcloud.run.jobs.execute) The execution failed.\n\nView details about this execution by running:\n' +
          'gcloud run jobs executions describe polycopy-backfill-x7k2p\n',
      },
      { tool: 'gcloud', match: ['run jobs executions describe polycopy-backfill-x7k2p'], stdout: 'tasks succeeded=0 failed=1 cancelled=0\n' },
      { tool: 'gcloud', match: ['logging read', 'polycopy-backfill-x7k2p', 'run_finished'], stdout: 'run_finished outcome=stopped exit_code=3 planned=500 loaded=0 failed=20\n' },
      ...FIGURES,
      ...DEPLOYED_PROJECT,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('outcome: execution polycopy-backfill-x7k2p FAILED (gcloud exit 1)');
    expect(run.stdout).toContain('tasks succeeded=0 failed=1 cancelled=0');
    expect(run.stdout).toContain('run_finished outcome=stopped exit_code=3');
    expect(run.stdout).toContain('|     1234 |');
    expect(run.stdout).toContain('| 0xabc | 0 |');
    expect(run.stdout).toContain('| 1234 | 2000 | 61.7 |');
    const queries = callsTo(run, 'bq', 'query');
    expect(queries).toHaveLength(3);
    for (const query of queries) {
      expect(query.argv).toContain('--use_legacy_sql=false');
      expect(query.argv.join(' ')).toContain(`\`${PROJECT}.polycopy.backfill_checkpoint\``);
    }
    expect(indexOfCall(run, 'gcloud', 'run jobs execute')).toBeLessThan(indexOfCall(run, 'bq', 'query'));
  });

  it('exits 0 after a successful execution, naming it', async () => {
    const run = await runScript('run-now.sh', [
      { tool: 'gcloud', match: ['run jobs execute'], stdout: 'polycopy-backfill-ok123\n' },
      ...FIGURES,
      ...DEPLOYED_PROJECT,
    ]);
    expectOk(run);
    expect(run.stdout).toContain('outcome: execution polycopy-backfill-ok123 succeeded');
    expect(callsTo(run, 'gcloud', 'run jobs executions describe polycopy-backfill-ok123')).toHaveLength(1);
    expect(callsTo(run, 'bq', 'query')).toHaveLength(3);
  });

  it('still prints the figures when no execution could be started', async () => {
    const run = await runScript('run-now.sh', [
      { tool: 'gcloud', match: ['run jobs execute'], exit: 1, stderr: 'ERROR: (gcloud.run.jobs.execute) NOT_FOUND: job not found\n' },
      ...FIGURES,
      ...DEPLOYED_PROJECT,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('outcome: execution (none started) FAILED');
    expect(callsTo(run, 'bq', 'query')).toHaveLength(3);
  });
});

interface AlertPolicy {
  displayName: string;
  notificationChannels: string[];
  conditions: {
    conditionThreshold?: {
      filter: string;
      thresholdValue: number;
      comparison: string;
      aggregations: { alignmentPeriod: string; perSeriesAligner: string; crossSeriesReducer: string }[];
    };
    conditionAbsent?: { filter: string; duration: string };
  }[];
}

describe.concurrent('alerts (60-alerts.sh)', () => {
  function policies(run: ScriptRun, verb: 'create' | 'update'): AlertPolicy[] {
    return callsTo(run, 'gcloud', `monitoring policies ${verb}`).map((c) => JSON.parse(c.files['--policy-from-file']!) as AlertPolicy);
  }

  it('creates three log-based metrics on the job logs and three alert policies on them', async () => {
    const channel = `projects/${PROJECT}/notificationChannels/42`;
    const run = await runScript('60-alerts.sh', EMPTY_PROJECT, { ALERT_CHANNEL: channel });
    expectOk(run);
    const metrics = callsTo(run, 'gcloud', 'logging metrics create').map((c) => [c.argv[3], flagValue(c, '--log-filter')]);
    const jobLogs = 'resource.type="cloud_run_job" AND resource.labels.job_name="polycopy-backfill"';
    expect(metrics).toEqual([
      ['polycopy-backfill_wallets_failed', `${jobLogs} AND jsonPayload.event="wallet_failed"`],
      ['polycopy-backfill_circuit_breaker_open', `${jobLogs} AND jsonPayload.event="circuit_breaker_open"`],
      [
        'polycopy-backfill_runs_succeeded',
        `${jobLogs} AND jsonPayload.event="run_finished" AND jsonPayload.exit_code=0 AND ` +
          '(jsonPayload.outcome="complete" OR jsonPayload.outcome="some-failed" OR jsonPayload.outcome="stopped")',
      ],
    ]);

    const [failed, breaker, noSuccess] = policies(run, 'create');
    const metricFilter = (name: string): string => `metric.type="logging.googleapis.com/user/${name}" AND resource.type="cloud_run_job"`;
    expect(failed!.notificationChannels).toEqual([channel]);
    expect(failed!.conditions[0]!.conditionThreshold).toMatchObject({
      filter: metricFilter('polycopy-backfill_wallets_failed'),
      comparison: 'COMPARISON_GT',
      thresholdValue: 50,
      aggregations: [{ alignmentPeriod: '1800s', perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM' }],
    });
    expect(breaker!.conditions[0]!.conditionThreshold).toMatchObject({
      filter: metricFilter('polycopy-backfill_circuit_breaker_open'),
      comparison: 'COMPARISON_GT',
      thresholdValue: 0,
    });
    expect(noSuccess!.displayName).toBe('polycopy-backfill: no successful run for 2 h');
    expect(noSuccess!.conditions[0]!.conditionAbsent).toEqual(
      expect.objectContaining({ filter: metricFilter('polycopy-backfill_runs_succeeded'), duration: '7200s' }),
    );
  });

  it('updates existing metrics and policies in place, without a notification channel when none is given', async () => {
    const run = await runScript('60-alerts.sh', DEPLOYED_PROJECT, { FAILED_WALLETS_THRESHOLD: '10', NO_SUCCESS_HOURS: '3' });
    expectOk(run);
    expect(callsTo(run, 'gcloud', 'logging metrics create')).toEqual([]);
    expect(callsTo(run, 'gcloud', 'logging metrics update')).toHaveLength(3);
    expect(callsTo(run, 'gcloud', 'monitoring policies create')).toEqual([]);
    const updated = policies(run, 'update');
    expect(updated).toHaveLength(3);
    expect(callsTo(run, 'gcloud', 'monitoring policies update')[0]!.argv).toContain(`projects/${PROJECT}/alertPolicies/123`);
    expect(updated.every((p) => p.notificationChannels.length === 0)).toBe(true);
    expect(updated[0]!.conditions[0]!.conditionThreshold!.thresholdValue).toBe(10);
    expect(updated[2]!.conditions[0]!.conditionAbsent!.duration).toBe('10800s');
  });

  it('falls back to `gcloud alpha monitoring` where the SDK has no GA policies command', async () => {
    const run = await runScript('60-alerts.sh', [
      { tool: 'gcloud', match: ['^monitoring policies list --help'], exit: 2, stderr: "ERROR: (gcloud.monitoring) Invalid choice: 'policies'.\n" },
      ...EMPTY_PROJECT,
    ]);
    expectOk(run);
    expect(callsTo(run, 'gcloud', 'alpha monitoring policies create')).toHaveLength(3);
  });
});

describe('shellcheck', () => {
  it('finds nothing in any deploy script, the fake tools, .ci/run or the test prerequisites script (and fails if shellcheck is missing)', () => {
    const scripts = readdirSync(DEPLOY_DIR)
      .filter((f) => f.endsWith('.sh'))
      .map((f) => join(DEPLOY_DIR, f));
    expect(scripts.length).toBeGreaterThanOrEqual(10);
    const result = spawnSync('shellcheck', ['--severity=style', ...scripts, resolve('test/deploy/fake-cloud-cli.sh'), resolve('.ci/run'), resolve('scripts/test-prerequisites.sh'), resolve('scripts/static-checks.sh')], {
      encoding: 'utf8',
    });
    if (result.error) {
      throw new Error(`shellcheck could not run (${result.error.message}): install Debian's shellcheck (npm test does: scripts/test-prerequisites.sh)`);
    }
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
