"""The category tree for our market, with each category's rules, and common brands.

Reference data every installation needs (not demo data). Operators edit it
later in the admin. Amounts in fen.
"""

from django.db import migrations

# (slug, name, parent slug, rules)
CATEGORIES = [
    ("womens", "女装", None, {"authentication": "above_value", "authentication_threshold_fen": 300000,
                              "care_steps": ["steam"], "is_returnable": True, "return_window_days": 7,
                              "needs_on_body_photo": True, "self_ship_max_fen": 30000}),
    ("womens-tops", "上衣", "womens", {}),
    ("womens-dresses", "连衣裙", "womens", {}),
    ("womens-coats", "外套", "womens", {"care_steps": ["dry_clean", "steam"]}),
    ("womens-knitwear", "针织衫", "womens", {"care_steps": ["wash", "steam"]}),
    ("womens-trousers", "裤装", "womens", {}),
    ("womens-skirts", "半身裙", "womens", {}),
    ("womens-underwear", "内衣家居服", "womens", {"care_steps": ["wash", "disinfect"], "is_returnable": False,
                                               "needs_on_body_photo": False}),
    ("bags", "包袋", None, {"authentication": "above_value", "authentication_threshold_fen": 200000,
                            "care_steps": ["spot_clean", "leather_care"], "is_returnable": True,
                            "return_window_days": 7, "needs_on_body_photo": False, "self_ship_max_fen": 30000}),
    ("bags-shoulder", "单肩包", "bags", {}),
    ("bags-tote", "托特包", "bags", {}),
    ("bags-crossbody", "斜挎包", "bags", {}),
    ("bags-wallets", "钱包卡包", "bags", {}),
    ("shoes", "鞋靴", None, {"authentication": "above_value", "authentication_threshold_fen": 200000,
                             "care_steps": ["spot_clean", "disinfect"], "is_returnable": True, "return_window_days": 7,
                             "needs_on_body_photo": False, "self_ship_max_fen": 20000}),
    ("accessories", "配饰/首饰", None, {"authentication": "above_value", "authentication_threshold_fen": 150000,
                                      "care_steps": ["polish"], "is_returnable": True, "return_window_days": 7,
                                      "needs_on_body_photo": False, "self_ship_max_fen": 20000}),
    ("accessories-jewellery", "首饰", "accessories", {}),
    ("accessories-scarves", "围巾丝巾", "accessories", {"care_steps": ["dry_clean", "steam"]}),
    ("accessories-sunglasses", "太阳镜", "accessories", {"care_steps": ["spot_clean", "disinfect"]}),
    ("luxury", "奢侈品", None, {"authentication": "always", "care_steps": ["spot_clean", "leather_care"],
                                "is_returnable": True, "return_window_days": 7, "needs_on_body_photo": False,
                                "self_ship_max_fen": 0}),
    ("luxury-bags", "奢侈品包袋", "luxury", {}),
    ("luxury-watches", "腕表", "luxury", {"care_steps": ["polish"]}),
    ("luxury-jewellery", "奢侈品首饰", "luxury", {"care_steps": ["polish"]}),
    # Baby goods must be disinfected by us, so they cannot stay with the seller (diapers excepted: sealed).
    ("baby", "母婴", None, {"authentication": "never", "care_steps": ["wash", "disinfect"], "is_returnable": True,
                            "return_window_days": 7, "needs_on_body_photo": False, "self_ship_max_fen": 0}),
    ("baby-clothes", "童装", "baby", {"care_steps": ["wash", "disinfect"]}),
    ("baby-toys", "玩具", "baby", {"care_steps": ["spot_clean", "disinfect"]}),
    ("baby-diapers", "纸尿裤", "baby", {"care_steps": ["spot_clean"], "is_returnable": False,
                                       "self_ship_max_fen": 30000}),
    ("baby-feeding", "喂养用品", "baby", {"care_steps": ["wash", "disinfect"], "is_returnable": False}),
    ("baby-strollers", "童车", "baby", {"care_steps": ["wash", "disinfect"], "self_ship_max_fen": 0}),
    ("baby-books", "绘本", "baby", {"care_steps": ["spot_clean", "disinfect"]}),
]

BRANDS = [
    ("Louis Vuitton", "路易威登", "luxury"), ("Chanel", "香奈儿", "luxury"), ("Hermès", "爱马仕", "luxury"),
    ("Gucci", "古驰", "luxury"), ("Prada", "普拉达", "luxury"), ("Dior", "迪奥", "luxury"),
    ("Cartier", "卡地亚", "luxury"), ("Celine", "思琳", "luxury"), ("Bottega Veneta", "葆蝶家", "luxury"),
    ("Coach", "蔻驰", "designer"), ("Michael Kors", "迈克高仕", "designer"), ("Kate Spade", "凯特丝蓓", "designer"),
    ("Max Mara", "麦丝玛拉", "designer"), ("Sandro", "", "designer"), ("Maje", "", "designer"),
    ("Longchamp", "珑骧", "designer"), ("COS", "", "premium"), ("Massimo Dutti", "", "premium"),
    ("Theory", "", "premium"), ("JNBY", "江南布衣", "premium"), ("EXCEPTION", "例外", "premium"),
    ("Stokke", "思多嘉儿", "premium"), ("Bugaboo", "博格步", "premium"), ("ZARA", "飒拉", "mass"),
    ("UNIQLO", "优衣库", "mass"), ("H&M", "", "mass"), ("Peacebird", "太平鸟", "mass"),
    ("Pigeon", "贝亲", "mass"), ("Fisher-Price", "费雪", "mass"), ("LEGO", "乐高", "mass"),
    ("babycare", "", "mass"), ("Pampers", "帮宝适", "mass"), ("Merries", "花王妙而舒", "mass"),
    ("Balabala", "巴拉巴拉", "mass"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    Brand = apps.get_model("catalog", "Brand")
    created = {}
    for position, (slug, name, parent_slug, rules) in enumerate(CATEGORIES):
        category, _ = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "parent": created.get(parent_slug), "position": position, **rules}
        )
        created[slug] = category
    for name, name_zh, tier in BRANDS:
        Brand.objects.get_or_create(name=name, defaults={"name_zh": name_zh, "tier": tier})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
