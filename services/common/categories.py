"""The incident category catalogue named in the community's case study."""

from dataclasses import dataclass
from enum import StrEnum


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


@dataclass(frozen=True)
class Category:
    code: str
    title: str
    priority: Priority
    co_handler_roles: tuple[str, ...] = ()


CATALOGUE: dict[str, Category] = {
    c.code: c
    for c in (
        Category("neighbour_dispute", "邻里纠纷 dispute between neighbours", Priority.NORMAL),
        Category("family_dispute", "家庭纠纷 family dispute", Priority.NORMAL, ("legal_adviser",)),
        Category(
            "property_dispute", "财产纠纷 property dispute", Priority.NORMAL, ("legal_adviser",)
        ),
        Category(
            "night_nuisance", "飞车党扰民 night-time motorbike racing", Priority.HIGH, ("police",)
        ),
        Category("public_order", "治安 public order", Priority.HIGH, ("police",)),
        Category("illegal_construction", "乱搭乱建 illegal extension or shed", Priority.NORMAL),
        Category("clutter", "乱堆乱放 clutter in front of houses", Priority.NORMAL),
        Category(
            "garden_encroachment", "公共绿地种菜 public garden turned into plots", Priority.NORMAL
        ),
        Category("wall_seepage", "挡墙渗水 water seepage through a retaining wall", Priority.HIGH),
        Category("safety_hazard", "安全隐患 safety hazard", Priority.URGENT),
        Category("epidemic_control", "疫情防控 epidemic control task", Priority.HIGH),
        Category(
            "paperwork_service", "办事难 household registration and paperwork", Priority.NORMAL
        ),
        Category("employment_service", "就业培训 employment and training request", Priority.NORMAL),
        Category("home_service", "上门服务 special service for elderly or disabled", Priority.HIGH),
        Category("fraud_prevention", "反诈防邪 fraud and cult prevention", Priority.NORMAL),
        Category("legal_advice", "法律咨询 legal advice", Priority.NORMAL, ("legal_adviser",)),
    )
}
