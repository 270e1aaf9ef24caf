"""Fixed demo content. Names are common Japanese names; nothing here is a real person."""

from __future__ import annotations

DEMO_PASSWORD = "mamori-demo-2026"  # noqa: S105  (printed for the demo; never used in production)
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPMAMORIDEMOSTAFFQ"  # noqa: S105  (base32, shared by demo staff)
EMAIL_DOMAIN = "demo.mamori.test"

HOSPITALS = [
    ("東都大学病院", "Toto University Hospital", "urn:oid:1.2.392.100495.20.3.51.11310001"),
    ("みなと総合病院", "Minato General Hospital", "urn:oid:1.2.392.100495.20.3.51.11310002"),
    ("さくら市民病院", "Sakura City Hospital", "urn:oid:1.2.392.100495.20.3.51.11310003"),
]
UNIVERSITY = ("東都大学 医学研究科", "Toto University Graduate School of Medicine")
PHARMA = ("あおば製薬株式会社", "Aoba Pharmaceutical Co., Ltd.")
PUBLIC_BODY = ("Mamori 運営機構", "Mamori Operating Organisation")

FAMILY_NAMES = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
]
GIVEN_NAMES = [
    ("花子", "ハナコ", "female"),
    ("太郎", "タロウ", "male"),
    ("陽菜", "ヒナ", "female"),
    ("蓮", "レン", "male"),
    ("美咲", "ミサキ", "female"),
    ("大翔", "ヒロト", "male"),
    ("結衣", "ユイ", "female"),
    ("悠真", "ユウマ", "male"),
    ("さくら", "サクラ", "female"),
    ("健一", "ケンイチ", "male"),
    ("恵子", "ケイコ", "female"),
    ("誠", "マコト", "male"),
    ("由美", "ユミ", "female"),
    ("翔太", "ショウタ", "male"),
    ("和子", "カズコ", "female"),
    ("茂", "シゲル", "male"),
]
