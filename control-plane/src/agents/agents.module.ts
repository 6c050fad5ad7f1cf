import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { AgentEntity } from './agent.entity.js';
import { AgentAuthenticator } from './agent-authenticator.js';
import { AgentRegistry } from './agent-registry.js';
import { AgentsController } from './agents.controller.js';
import { AgentsRepository } from './agents.repository.js';
import { AgentsService } from './agents.service.js';
import { ControlPlaneIdentity } from './control-plane-identity.js';

@Module({
  imports: [TypeOrmModule.forFeature([AgentEntity]), AuditModule],
  controllers: [AgentsController],
  providers: [AgentsRepository, AgentsService, AgentRegistry, AgentAuthenticator, ControlPlaneIdentity],
  exports: [AgentsService, AgentRegistry, AgentAuthenticator],
})
export class AgentsModule {}
