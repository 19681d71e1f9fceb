/**
 * `pce-ctl users ...` and `pce-ctl api-key ...`: users, their permissions and API keys, written directly with
 * the operator's credentials in the leader's region (as supercluster-init-leader), fenced by the leader
 * record, through the same use cases as the REST API (shared/auth/access-service.ts). Invalid roles, scopes
 * (labels must exist) or ids: exit 2 with the reason.
 */
import type { Command } from 'commander';
import { ApiError } from '../../shared/api/errors.ts';
import { AccessService, type LeaderFencing } from '../../shared/auth/access-service.ts';
import { PasswordRejectedError, setPassword } from '../../shared/auth/console-sessions.ts';
import type { GlobalTableAdapters } from '../../shared/storage/dynamodb/adapters.ts';
import { apiKeyToJson, permissionToJson, userToJson, type ApiKeyMeta } from '../../shared/auth/identity.ts';
import { initialLeader } from '../../shared/supercluster/config.ts';
import { FenceFailedError, LeaderChangedError } from '../../shared/supercluster/leader.ts';
import type { Target } from '../target.ts';
import { passwordProblem } from '../../shared/auth/passwords.ts';
import { table, UsageError, withTarget } from './context.ts';

/** The leader region's replica and the fencing of writes there (its leader record, read consistently). */
async function leaderRegionWrites(target: Target): Promise<{ global: GlobalTableAdapters; fencing: LeaderFencing }> {
  const first = initialLeader(target.config).region;
  const regions = [first, ...target.config.pces.map((p) => p.region).filter((r) => r !== first)];
  let leaderRegion: string | null = null;
  for (const region of regions) {
    try {
      const record = await target.global(region).leaderRecord.get({ consistent: true });
      if (!record) throw new UsageError('the supercluster is not initialised: run pce-ctl supercluster-init-leader');
      leaderRegion = record.leaderRegion;
      break;
    } catch (err) {
      if (err instanceof UsageError) throw err;
    }
  }
  if (!leaderRegion) throw new Error(`no region answered (${regions.join(', ')})`);
  const global = target.global(leaderRegion);
  const region = leaderRegion;
  return {
    global,
    fencing: {
      fence: async () => {
        const record = await global.leaderRecord.get({ consistent: true });
        if (record?.leaderRegion !== region) throw new LeaderChangedError(`the leader moved away from ${region}: run the command again`);
        return { region, epoch: record.epoch };
      },
      failed: async (cause) => new LeaderChangedError('the leader changed during the write: run the command again', { cause }),
    },
  };
}

/** The access use cases over the leader region's replica, with writes fenced by its leader record. */
async function leaderAccess(target: Target): Promise<AccessService> {
  const { global, fencing } = await leaderRegionWrites(target);
  return new AccessService({ identity: global.identity, apiKeys: global.apiKeys, labels: global.labels, fencing });
}

/** The whole of stdin, without its final line break: a password given with --password-stdin. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Sets a user's web console password (scrypt hash, an identity item written in the leader's region). */
async function setConsolePassword(target: Target, username: string, password: string): Promise<void> {
  const { global, fencing } = await leaderRegionWrites(target);
  try {
    await setPassword({ passwords: global.passwords, users: global.identity }, username, password, await fencing.fence(), Date.now());
  } catch (err) {
    if (err instanceof PasswordRejectedError) throw new UsageError(err.message, { cause: err });
    if (err instanceof FenceFailedError) throw await fencing.failed(err);
    throw err;
  }
}

/** 4xx answers of the use cases (invalid role, unknown label, unknown user or key) as pce-ctl usage errors: exit 2. */
async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.statusCode < 500) throw new UsageError(err.errors.map((e) => e.message).join('; '), { cause: err });
    throw err;
  }
}

const scopeOf = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(value) || Number(value) < 1) throw new UsageError(`${name} must be a positive integer, got "${value}"`);
  return Number(value);
}

export function registerAccess(program: Command): void {
  const users = program.command('users').description("The org's users and their permissions (written in the leader's region)");
  users
    .command('create')
    .description('Create a local user; with --role, grant it that role (over --scope) through a permission of its user principal')
    .argument('<username>', 'the username (unique)')
    .option('--full-name <name>', 'the full name')
    .option('--role <role>', 'grant this role: owner, admin, read_only, global_object_provisioner, ruleset_manager, ruleset_provisioner, workload_manager')
    .option('--scope <hrefs>', 'label hrefs limiting a scopable role, comma separated (/orgs/1/labels/7,/orgs/1/labels/9)')
    .option('--password-stdin', 'read the web console password from stdin (at least 12 characters; stored as its scrypt hash)')
    .option('--json', 'print JSON')
    .action(async (username: string, options: { fullName?: string; role?: string; scope?: string; passwordStdin?: boolean; json?: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const orgId = target.config.org_id;
        const scope = scopeOf(options.scope);
        if (scope.length > 0 && !options.role) throw new UsageError('--scope needs --role');
        const password = options.passwordStdin ? await readStdin() : null;
        const problem = password === null ? null : passwordProblem(password);
        if (problem) throw new UsageError(`--password-stdin: ${problem}`);
        const access = await leaderAccess(target);
        if (options.role) await asUsage(() => access.validateGrant(orgId, options.role ?? '', scope));
        const user = await asUsage(() => access.createUser(orgId, { username, ...(options.fullName !== undefined ? { full_name: options.fullName } : {}) }));
        const permission = options.role ? await asUsage(() => access.grantRole(orgId, username, options.role ?? '', scope)) : null;
        if (password !== null) await setConsolePassword(target, username, password);
        if (options.json) console.log(JSON.stringify({ ...userToJson(user), permissions: permission ? [permissionToJson(permission)] : [] }, null, 2));
        else console.log(`Created user ${user.username} (${userToJson(user).href})${permission ? ` with role ${permission.role}${scope.length > 0 ? ` over ${scope.join(', ')}` : ''}` : ' with no permission'}`);
      });
    });
  users
    .command('set-password')
    .description("Set a user's web console password, read from stdin (at least 12 characters; stored as its scrypt hash, written in the leader's region)")
    .argument('<username>', 'the username')
    .requiredOption('--password-stdin', 'read the password from stdin')
    .action(async (username: string, _options: unknown, command: Command) => {
      await withTarget(command, async (target) => {
        await setConsolePassword(target, username, await readStdin());
        console.log(`Set the console password of ${username}`);
      });
    });
  users
    .command('list')
    .description("The org's users")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withTarget(command, async (target) => {
        const list = await (await leaderAccess(target)).listUsers(target.config.org_id);
        if (options.json) console.log(JSON.stringify(list.map(userToJson), null, 2));
        else console.log(table(['ID', 'USERNAME', 'FULL NAME'], list.map((u) => [String(u.id), u.username, u.fullName])));
      });
    });
  users
    .command('delete')
    .description('Delete a user and revoke each of its API keys')
    .argument('<id>', 'the user id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const userId = positiveInt('<id>', id) ?? 0;
      await withTarget(command, async (target) => {
        await asUsage(async () => (await leaderAccess(target)).deleteUser({ userId: 0, orgId: target.config.org_id }, userId));
        console.log(`Deleted user ${userId} and its API keys`);
      });
    });

  const apiKey = program.command('api-key').description('API keys (written in the leader region; the secret is shown once and stored as its SHA-256)');
  apiKey
    .command('create')
    .description("Create an API key with its own role (and scope): prints Illumio's {href, key_id, auth_username, secret}")
    .requiredOption('--role <role>', 'owner, admin, read_only, global_object_provisioner, ruleset_manager, ruleset_provisioner, workload_manager')
    .option('--scope <hrefs>', 'label hrefs limiting a scopable role, comma separated')
    .option('--user <id>', 'the user the key belongs to', '1')
    .option('--name <name>', 'the key name')
    .option('--expires-in <seconds>', 'the key is refused (401) after this many seconds')
    .option('--json', 'print JSON only')
    .action(async (options: { role: string; scope?: string; user: string; name?: string; expiresIn?: string; json?: boolean }, command: Command) => {
      const userId = positiveInt('--user', options.user) ?? 1;
      const expiresInSeconds = positiveInt('--expires-in', options.expiresIn);
      await withTarget(command, async (target) => {
        const access = await leaderAccess(target);
        const created = await asUsage(() =>
          access.createRoleKey({ orgId: target.config.org_id, userId, role: options.role, scope: scopeOf(options.scope), ...(options.name !== undefined ? { name: options.name } : {}), ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}) }),
        );
        const out = { ...apiKeyToJson(created.record), secret: created.secret };
        if (!options.json) console.log(`API key ${created.record.authUsername} of user ${userId}, role ${options.role} (the secret is shown only now; store it safely):`);
        console.log(JSON.stringify(out, null, options.json ? 2 : undefined));
      });
    });
  apiKey
    .command('list')
    .description('API keys (no secrets), of one user or of every user')
    .option('--user <id>', 'only this user')
    .option('--json', 'print JSON')
    .action(async (options: { user?: string; json?: boolean }, command: Command) => {
      const only = positiveInt('--user', options.user);
      await withTarget(command, async (target) => {
        const orgId = target.config.org_id;
        const access = await leaderAccess(target);
        const userIds = only !== undefined ? [only] : (await access.listUsers(orgId)).map((u) => u.id);
        const keys: ApiKeyMeta[] = (await asUsage(() => Promise.all(userIds.map((id) => access.listKeys(orgId, id))))).flat();
        if (options.json) console.log(JSON.stringify(keys.map(apiKeyToJson), null, 2));
        else
          console.log(
            table(
              ['USER', 'KEY ID', 'AUTH USERNAME', 'NAME', 'ROLE', 'EXPIRES'],
              keys.map((k) => [String(k.userId), k.keyId, k.authUsername, k.name ?? '', k.role ? `${k.role}${k.scope?.length ? ` (${k.scope.join(',')})` : ''}` : "user's permissions", k.expiresAt != null ? new Date(k.expiresAt).toISOString() : 'never']),
            ),
          );
      });
    });
  apiKey
    .command('revoke')
    .description('Revoke (delete) an API key: every PCE answers 401 for it once the deletion replicated')
    .argument('<key_id>', 'the key id (the hex after api_ in its auth username)')
    .option('--user <id>', 'the user it belongs to (default: found among all users)')
    .action(async (keyId: string, options: { user?: string }, command: Command) => {
      const only = positiveInt('--user', options.user);
      const id = keyId.replace(/^api_/, '');
      await withTarget(command, async (target) => {
        const orgId = target.config.org_id;
        const access = await leaderAccess(target);
        let userId = only;
        if (userId === undefined) {
          for (const user of await access.listUsers(orgId)) if ((await access.listKeys(orgId, user.id)).some((k) => k.keyId === id)) userId = user.id;
          if (userId === undefined) throw new UsageError(`no API key ${id} of any user`);
        }
        const owner = userId;
        await asUsage(() => access.deleteKey(orgId, owner, id));
        console.log(`Revoked API key ${id} of user ${owner}`);
      });
    });
}
