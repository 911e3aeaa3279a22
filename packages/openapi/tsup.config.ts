import { libraryConfig } from '@org/tsup-config';

export default libraryConfig({
  index: 'src/index.ts',
  express: 'src/express/index.ts',
  fastify: 'src/fastify/index.ts',
  hono: 'src/hono/index.ts',
});
