"""SQLAlchemy models. They may flush, never commit: services own the transaction."""
from portal.models.api import ApiClient, ApiIdempotencyKey, ApiScope
from portal.models.assistance import ProviderKind, ServiceReferral, ServiceType
from portal.models.branch import Branch, BranchKind, BranchOutcome, BranchStatus
from portal.models.case import (
                                Case,
                                CaseScore,
                                CaseStatus,
                                ClosingType,
                                Complexity,
                                ConfirmationStatus,
                                Fulfilment,
                                HandlingResult,
                                JudicialConfirmation,
                                LawfulChannel,
                                MediationKind,
                                MediationSession,
                                Party,
                                PartyKind,
                                PlaceKind,
                                ResolutionMode,
                                RiskLevel,
                                Satisfaction,
                                SessionResult,
                                SourceChannel,
)
from portal.models.collab import CaseComment, Notification
from portal.models.dossier import (
                                AgreementKind,
                                AttachmentCategory,
                                CaseAttachment,
                                DossierNumber,
                                Investigation,
                                MediationAgreement,
                                PrintJob,
                                PrintJobStatus,
)
from portal.models.forms import FormDefinition
from portal.models.grid import GridOutcome, GridReport
from portal.models.migration import CaseMigration
from portal.models.online import (
                                AppointmentStatus,
                                CitizenRating,
                                ConsentChannel,
                                DeliveryStatus,
                                DocumentDelivery,
                                PartyConsent,
                                RateWindow,
                                SessionAppointment,
)
from portal.models.org import (
                                SECURITY_TABLES,
                                DisputeType,
                                LaneRole,
                                OrgKind,
                                OrgUnit,
                                PortalUser,
                                SecurityVersion,
                                StationMode,
)
from portal.models.rollup import CaseFigures, FigureDay, RollupMark, StepDwellDay
from portal.models.settings import (
                                CalendarDay,
                                CardLevel,
                                DeadlinePause,
                                DeadlineRule,
                                ExtensionRequest,
                                PauseReason,
                                PortalSetting,
                                RequestStatus,
                                SupervisionCard,
                                SupervisionRule,
)
from portal.models.work import (
                                OPEN_INLINE,
                                AuditEvent,
                                AuditLogImmutableError,
                                ProcessDraft,
                                ProcessStatus,
                                ProcessVersion,
                                WorkItem,
                                WorkItemKind,
                                WorkItemStatus,
)

__all__ = ["ApiClient", "ApiIdempotencyKey", "ApiScope", "CaseFigures", "FigureDay", "RollupMark", "StepDwellDay",
           "PortalSetting", "FormDefinition", "Branch", "BranchKind", "BranchOutcome", "BranchStatus",
           "ProviderKind", "ServiceReferral", "ServiceType",
           "AgreementKind", "AttachmentCategory", "CaseAttachment", "DossierNumber", "Investigation",
           "MediationAgreement", "PrintJob", "PrintJobStatus",
           "CaseComment", "Notification", "MediationKind", "MediationSession", "SessionResult",
           "ExtensionRequest", "RequestStatus", "DeadlinePause", "PauseReason",
           "CalendarDay", "CardLevel", "DeadlineRule", "SupervisionCard", "SupervisionRule", "WorkItemKind",
           "LawfulChannel", "CaseScore", "Satisfaction", "ConfirmationStatus", "JudicialConfirmation",
           "Case", "CaseStatus", "ClosingType", "Complexity", "Fulfilment", "HandlingResult", "ResolutionMode",
           "RiskLevel", "Party", "PartyKind", "PlaceKind", "SourceChannel", "DisputeType",
           "LaneRole", "OrgKind", "OrgUnit", "PortalUser", "SECURITY_TABLES", "SecurityVersion", "StationMode",
           "AuditEvent",
           "AuditLogImmutableError", "ProcessDraft", "ProcessStatus", "ProcessVersion", "WorkItem", "WorkItemStatus",
           "OPEN_INLINE",
           "CaseMigration", "GridOutcome", "GridReport", "AppointmentStatus", "CitizenRating", "ConsentChannel",
           "DeliveryStatus", "DocumentDelivery", "PartyConsent", "RateWindow", "SessionAppointment"]
