/** `npm run testenv:up | testenv:down | testenv:status`. */
import { paths } from './layout.js';
import { down, isHealthy, readState, testenvVariables, up } from './testenv.js';

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'up': {
      const { state } = await up();
      for (const [key, value] of Object.entries(testenvVariables(state))) console.log(`${key}=${value}`);
      console.log(`# source ${paths.envFile} to use them in a shell`);
      return;
    }
    case 'down':
      await down();
      return;
    case 'status': {
      const state = readState();
      if (!state) {
        console.log('not running');
        process.exitCode = 1;
        return;
      }
      const healthy = await isHealthy(state);
      console.log(JSON.stringify({ healthy, ...state }, null, 2));
      if (!healthy) process.exitCode = 1;
      return;
    }
    default:
      console.error('usage: testenv {up|down|status}');
      process.exitCode = 2;
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
