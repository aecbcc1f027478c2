import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Cluster, type ClusterOptions } from 'ioredis'
import { redisCommand } from './redis-command.js'
import { startRedis, type ThrowawayRedis } from './start-redis.js'
import type { Teardown } from './teardown.js'
import { waitUntil } from './wait-until.js'

const execFileAsync = promisify(execFile)
const CLUSTER_BUS_OFFSET = 10_000

export interface StartRedisClusterOptions {
  /** Number of master nodes (no replicas); at least 3, as `redis-cli --cluster create` requires. */
  masters?: number
}

/** A real Redis Cluster owned by one test. */
export interface ThrowawayRedisCluster {
  /** Seed nodes for a cluster client. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>
  /** The node servers, for fault injection on one node. */
  readonly servers: readonly ThrowawayRedis[]
  /** A new ioredis `Cluster` client; it is disconnected at `stop()` if still open. */
  createClient(options?: ClusterOptions): Cluster
  /** Disconnects the clients made here and stops every node. */
  stop(): Promise<void>
}

/**
 * Starts `masters` cluster-enabled redis-servers on free ports, assigns all 16384 slots
 * with `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(
  t: Teardown,
  options: StartRedisClusterOptions = {}
): Promise<ThrowawayRedisCluster> {
  const masters = options.masters ?? 3
  if (!Number.isInteger(masters) || masters < 3)
    throw new Error(`test-utils: a Redis Cluster needs at least 3 masters, got ${masters}`)

  const clients = new Set<Cluster>()
  const servers: ThrowawayRedis[] = []
  const stop = async (): Promise<void> => {
    for (const client of clients) client.disconnect()
    clients.clear()
    await Promise.all(servers.map((server) => server.stop()))
  }
  t.teardown(stop)

  for (let i = 0; i < masters; i++) {
    servers.push(
      await startRedis(t, {
        portOffset: CLUSTER_BUS_OFFSET,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000'
        ]
      })
    )
  }
  const nodes = servers.map(({ host, port }) => ({ host, port }))
  await execFileAsync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map(({ host, port }) => `${host}:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes'
    ],
    { timeout: 30_000 }
  )
  await waitUntil(
    async () => {
      const infos = await Promise.all(servers.map(({ port }) => redisCommand(port, 1000, 'CLUSTER', 'INFO')))
      return infos.every((info) => String(info).includes('cluster_state:ok'))
    },
    'cluster_state:ok on every node',
    30_000,
    100
  )

  return {
    nodes,
    servers,
    createClient(clusterOptions?: ClusterOptions) {
      const client = new Cluster(nodes, clusterOptions)
      clients.add(client)
      client.once('end', () => clients.delete(client))
      return client
    },
    stop
  }
}
