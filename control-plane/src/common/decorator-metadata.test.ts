import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../agents/agent-registry.js';
import { AgentsRepository } from '../agents/agents.repository.js';
import { AgentsService } from '../agents/agents.service.js';
import { ControlPlaneIdentity } from '../agents/control-plane-identity.js';
import { AuditService } from '../audit/audit.service.js';
import { CLOCK, systemClock } from './clock.js';
import { LOGGER, StructuredLogger } from './logger.js';

/**
 * Nest injects by constructor parameter types, which exist only if the compiler emits decorator metadata.
 * Without it (e.g. vite 7) injection silently yields undefined; this test fails loudly instead.
 */
describe('decorator metadata', () => {
  it('is emitted, so Nest injects class-typed dependencies', async () => {
    // Token-injected parameters (clock, logger) are typed by interface or type-only import, hence Object.
    expect(Reflect.getMetadata('design:paramtypes', AgentsService)).toEqual([AgentsRepository, AgentRegistry, ControlPlaneIdentity, AuditService, Object, Object]);

    const moduleRef = await Test.createTestingModule({
      providers: [
        AgentsService,
        AgentRegistry,
        { provide: AgentsRepository, useValue: { marker: 'repository' } },
        { provide: ControlPlaneIdentity, useValue: {} },
        { provide: AuditService, useValue: {} },
        { provide: CLOCK, useValue: systemClock },
        { provide: LOGGER, useValue: new StructuredLogger('silent') },
      ],
    }).compile();
    const service = moduleRef.get(AgentsService) as unknown as { agents: unknown; registry: unknown };
    expect(service.agents).toEqual({ marker: 'repository' });
    expect(service.registry).toBeInstanceOf(AgentRegistry);
  });
});
