// The guest worker as the scenario runner starts it: guest/worker.ts itself, reached from here
// because spawnTsWorker starts entries under test/workers/.
import '../../guest/worker.ts';
