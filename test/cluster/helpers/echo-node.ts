// Entry of one test node process: echo rooms on the cluster's Redis, plus test routes (nodes, create, broadcast).
import { runNode } from '../../../demos/cluster/node.js';
import type { RoomTags } from '../../../src/server/index.js';
import { createServer } from '../../../src/server/index.js';
import { createEchoRoom, newEchoLog } from '../../helpers/echo-room.js';
import { testNotices } from './notices.js';

void runNode(async (env, driver) => {
  const log = newEchoLog();
  const app = await createServer({
    rooms: {
      echo: createEchoRoom(log, { maxClients: 16, reconnectionMs: 2_000 }),
      small: createEchoRoom(log, { maxClients: 4, reconnectionMs: 2_000 }),
    },
    driver,
    nodeId: env.nodeId,
    seatSecret: env.seatSecret,
    cluster: env.cluster,
    notices: testNotices,
    joinRatePerIp: false,
    logger: process.env.NODE_LOG === '1' ? { level: 'warn', stream: process.stderr } : false,
    session: { limits: { messagesPerSecond: 0 } },
  });
  app.get('/test/nodes', async () => ({ nodes: (await app.netloom.cluster?.nodes()) ?? [] }));
  // Creates a room with no seat (the public create route seats its creator).
  app.post<{ Body: { type: string; tags?: RoomTags } }>('/test/rooms', async (request) =>
    app.netloom.rooms.create(request.body.type, { tags: request.body.tags ?? {} }),
  );
  app.post<{ Body: { text: string } }>('/test/broadcast', async (request) => ({
    reached: app.netloom.broadcast('news', { text: request.body.text }),
  }));
  await app.listen({ port: env.port, host: env.host });
  return { app, close: async () => void (await app.netloom.shutdown()) };
});
