// The push protocol of the test node processes: `POST /test/broadcast` sends `news` to every session of the cluster.
import { defineProtocol, p } from '../../../src/codec/index.js';

export const testNotices = defineProtocol({ client: {}, server: { news: p.object({ text: p.string() }) } });
